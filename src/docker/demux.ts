import { Transform, Writable } from 'node:stream';
import { writeChunk } from '../util/streams.js';

/** Stream ids of the engine's multiplexed attach/logs format. */
export type FrameStream = 'stdin' | 'stdout' | 'stderr' | 'system';
const STREAMS: FrameStream[] = ['stdin', 'stdout', 'stderr', 'system'];
const HEADER = 8;

/** A piece of one frame's payload. A large frame arrives as several pieces, in order. */
export interface FramePiece {
  stream: FrameStream;
  data: Buffer;
}

/**
 * Splits the engine's multiplexed stream (non-TTY logs and attach): every frame is an 8-byte
 * header `{stream, 0, 0, 0, size uint32 BE}` followed by `size` payload bytes. Headers may be
 * split across chunks; payloads are passed on as they arrive, never gathered whole, so a huge
 * log line costs no memory. Output is object mode: `FramePiece`s.
 */
export class FrameDemuxer extends Transform {
  private header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private remaining = 0;
  private current: FrameStream = 'stdout';
  /** Payload bytes seen per stream. */
  readonly bytes: Record<FrameStream, number> = { stdin: 0, stdout: 0, stderr: 0, system: 0 };
  /** Offset in the input stream, for error messages. */
  private offset = 0;

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        this.emitPiece(chunk.subarray(pos, pos + n));
        this.remaining -= n;
        pos += n;
        continue;
      }
      const n = Math.min(HEADER - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      if (this.headerFill < HEADER) break;
      const err = this.startFrame(this.offset + pos - HEADER);
      if (err) return cb(err);
    }
    this.offset += chunk.length;
    cb();
  }

  override _flush(cb: (err?: Error | null) => void): void {
    if (this.remaining > 0)
      return cb(new Error(`stream ended inside a frame: ${this.remaining} payload bytes missing`));
    if (this.headerFill > 0)
      return cb(new Error(`stream ended inside a frame header (${this.headerFill} of 8 bytes)`));
    cb();
  }

  private startFrame(at: number): Error | undefined {
    const h = this.header;
    this.headerFill = 0;
    const kind = STREAMS[h[0]];
    if (!kind || h[1] !== 0 || h[2] !== 0 || h[3] !== 0) {
      return new Error(
        `not a multiplexed stream: bad frame header ${h.toString('hex')} at byte ${at} (a TTY container sends raw output)`,
      );
    }
    this.current = kind;
    this.remaining = h.readUInt32BE(4);
    return undefined;
  }

  private emitPiece(data: Buffer): void {
    this.bytes[this.current] += data.length;
    this.push({ stream: this.current, data } satisfies FramePiece);
  }
}

/**
 * The sink side of a demux: writes each piece to the writable of its stream, waiting for drain,
 * so a slow artifact slows the engine stream instead of filling memory. `stdin`/`system`
 * pieces go to `other` (stderr when not given). It does not end the targets.
 */
export function frameRouter(targets: {
  stdout: Writable;
  stderr: Writable;
  other?: Writable;
}): Writable {
  return new Writable({
    objectMode: true,
    write(piece: FramePiece, _enc, cb) {
      const dest =
        piece.stream === 'stdout'
          ? targets.stdout
          : piece.stream === 'stderr'
            ? targets.stderr
            : (targets.other ?? targets.stderr);
      writeChunk(dest, piece.data).then(() => cb(), cb);
    },
  });
}
