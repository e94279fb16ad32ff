import { Writable } from 'node:stream';

/**
 * Splits a helper container's stdout into length-framed sections: a header line
 * `<label> <size>\n` followed by exactly `size` bytes (`-1`: the file could not be read).
 * Framing by length, not by markers, means file content (attacker-chosen socket paths,
 * process names) can never forge or end a section.
 */
export interface SectionSink {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

/** Called at each header; returns where the section's bytes go, or null to drop them. */
export type OpenSection = (label: string, size: number) => Promise<SectionSink | null>;

const MAX_HEADER = 256;

export class SectionSplitter extends Writable {
  private header: Buffer[] = [];
  private headerBytes = 0;
  private remaining = 0;
  private sink: SectionSink | null = null;
  private inBody = false;
  /** Labels seen, in order, with their declared sizes. */
  readonly seen: { label: string; size: number }[] = [];

  constructor(
    private readonly open: OpenSection,
    private readonly labelPattern: RegExp,
  ) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.consume(chunk).then(() => cb(), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.inBody)
      return cb(
        new Error(
          `helper output ended inside section "${this.seen.at(-1)?.label}" (${this.remaining} bytes missing)`,
        ),
      );
    if (this.headerBytes) return cb(new Error('helper output ended inside a section header'));
    cb();
  }

  private async consume(chunk: Buffer): Promise<void> {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.inBody) {
        const n = Math.min(this.remaining, chunk.length - pos);
        if (this.sink && n) await this.sink.write(chunk.subarray(pos, pos + n));
        this.remaining -= n;
        pos += n;
        if (this.remaining === 0) await this.closeSection();
        continue;
      }
      const nl = chunk.indexOf(0x0a, pos);
      const end = nl < 0 ? chunk.length : nl;
      this.header.push(chunk.subarray(pos, end));
      this.headerBytes += end - pos;
      if (this.headerBytes > MAX_HEADER)
        throw new Error('helper output is not framed as expected (header line too long)');
      pos = end;
      if (nl < 0) break;
      pos++;
      await this.startSection(Buffer.concat(this.header).toString('latin1'));
    }
  }

  private async startSection(line: string): Promise<void> {
    this.header = [];
    this.headerBytes = 0;
    const m = /^(\S+) (-1|\d{1,15})$/.exec(line);
    if (!m || !this.labelPattern.test(m[1]))
      throw new Error(
        `helper output is not framed as expected: header ${JSON.stringify(line.slice(0, 80))}`,
      );
    const size = Number(m[2]);
    this.seen.push({ label: m[1], size });
    this.sink = await this.open(m[1], size);
    if (size > 0) {
      this.inBody = true;
      this.remaining = size;
    } else await this.closeSection();
  }

  private async closeSection(): Promise<void> {
    this.inBody = false;
    const sink = this.sink;
    this.sink = null;
    if (sink) await sink.end();
  }
}
