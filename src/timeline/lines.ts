import type { Readable } from 'node:stream';

/** Longest line kept whole by the JSON-line readers: a longer one is clipped (and is then no valid JSON). */
export const MAX_LINE = 64 * 1024 * 1024;

export interface LineOptions {
  /** Bytes of a line kept (default MAX_LINE); the rest is counted, never held, and a marker says how many. */
  maxLine?: number;
  /** Told of each clipped line: its index in the batch about to be yielded, and the bytes cut. */
  onClip?: (indexInBatch: number, bytes: number) => void;
}

/** The marker a clipped line ends with: `… [clipped: 559,999,000 bytes not shown]`. */
export function clipMarker(bytes: number): string {
  return `… [clipped: ${bytes.toLocaleString('en-US')} bytes not shown]`;
}

/** Length of the longest prefix of `b` that ends on a UTF-8 character boundary. */
function utf8Prefix(b: Buffer): number {
  let i = b.length;
  // Step back over continuation bytes (10xxxxxx) to the lead byte of the last character.
  let back = 0;
  while (i > 0 && back < 4 && (b[i - 1] & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i === 0) return b.length;
  const lead = b[i - 1];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return need === back + 1 ? b.length : i - 1;
}

/**
 * Splits a byte stream into lines (on `\n` only: a `\r` inside a line is the container's and is kept),
 * one array per chunk read, so a million lines cost a few hundred awaits, not a million. A run of whole
 * lines is decoded at once (a `\n` byte never sits inside a UTF-8 sequence, so cutting there is safe).
 * The last line is yielded even without `\n`.
 *
 * Memory is bounded whatever the input: of a line longer than `maxLine` bytes only the first `maxLine`
 * (cut back to a character boundary) are kept, the rest is counted as it streams past, and the line
 * ends with clipMarker(n). A 560 MB line without a newline costs `maxLine`, not 560 MB (nor V8's
 * "Invalid string length").
 */
export async function* readLineBatches(
  stream: Readable,
  o: LineOptions = {},
): AsyncGenerator<string[]> {
  const max = Math.max(1, o.maxLine ?? MAX_LINE);
  // The unfinished line: kept bytes (≤ max) and how many were dropped beyond them.
  let pending: Buffer[] = [];
  let kept = 0;
  let dropped = 0;
  const hold = (b: Buffer): void => {
    const room = max - kept;
    if (b.length <= room) {
      if (b.length) pending.push(b);
      kept += b.length;
    } else {
      if (room > 0) pending.push(b.subarray(0, room));
      kept += Math.max(0, room);
      dropped += b.length - Math.max(0, room);
    }
  };
  let batchLen = 0;
  const finish = (): string => {
    const bytes = pending.length === 1 ? pending[0] : Buffer.concat(pending, kept);
    pending = [];
    kept = 0;
    if (!dropped) return bytes.toString('utf8');
    const cut = utf8Prefix(bytes);
    const cutBytes = dropped + bytes.length - cut;
    const line = bytes.toString('utf8', 0, cut) + clipMarker(cutBytes);
    o.onClip?.(batchLen, cutBytes);
    dropped = 0;
    return line;
  };
  /** One line that may be over the limit, from a single buffer. */
  const one = (b: Buffer): string => {
    if (b.length <= max) return b.toString('utf8');
    hold(b);
    return finish();
  };
  for await (const c of stream) {
    const chunk = Buffer.isBuffer(c) ? c : Buffer.from(c as string);
    const first = chunk.indexOf(10);
    if (first === -1) {
      hold(chunk);
      continue;
    }
    const batch: string[] = [];
    batchLen = 0;
    if (kept || dropped) {
      hold(chunk.subarray(0, first));
      batch.push(finish());
    } else batch.push(one(chunk.subarray(0, first)));
    const last = chunk.lastIndexOf(10);
    if (last > first) {
      const mid = chunk.subarray(first + 1, last);
      // Fast path: no line of this run can be over the limit, so decode it once and split the text.
      if (mid.length <= max) for (const line of mid.toString('utf8').split('\n')) batch.push(line);
      else {
        for (let s = 0, nl = mid.indexOf(10); ; s = nl + 1, nl = mid.indexOf(10, s)) {
          batchLen = batch.length;
          batch.push(one(mid.subarray(s, nl === -1 ? mid.length : nl)));
          if (nl === -1) break;
        }
      }
    }
    hold(chunk.subarray(last + 1));
    yield batch;
  }
  batchLen = 0;
  if (kept || dropped) yield [finish()];
}

/** The same, one line at a time (for the small line-oriented artifacts). */
export async function* readLines(stream: Readable, o: LineOptions = {}): AsyncGenerator<string> {
  for await (const batch of readLineBatches(stream, o)) yield* batch;
}

/**
 * The JSON objects of a JSONL artifact, with their 1-based line numbers. Blank lines are skipped; a
 * line that is not a JSON object is a warning (`rel:line: …`) and reading goes on.
 */
export async function* jsonObjects(
  stream: Readable,
  rel: string,
  warn: (message: string) => void,
): AsyncGenerator<{ o: Record<string, unknown>; line: number }> {
  let line = 0;
  for await (const text of readLines(stream)) {
    line++;
    if (!text.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      warn(`${rel}:${line}: not valid JSON; skipped`);
      continue;
    }
    if (o && typeof o === 'object' && !Array.isArray(o))
      yield { o: o as Record<string, unknown>, line };
    else warn(`${rel}:${line}: not an object; skipped`);
  }
}
