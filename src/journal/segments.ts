import fs from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { decodeLine, SEGMENT, type JournalRecord } from './record.js';

/** The segment files of a journal folder, oldest first (by number). */
export function listSegments(dir: string): { name: string; n: number }[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .map((name) => ({ name, m: SEGMENT.exec(name) }))
    .filter((x): x is { name: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ name: x.name, n: Number(x.m[1]) }))
    .sort((a, b) => a.n - b.n);
}

const EDGE = 1 << 20;

/** Reads `len` bytes at `pos` of a file. */
function readAt(file: string, pos: number, len: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(len);
    const n = fs.readSync(fd, buf, 0, len, pos);
    return buf.subarray(0, n).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The first and last whole records of a segment (records are far smaller than the 1 MiB read at
 * each end), and whether the file ends mid-line (a crash during a write).
 */
export function segmentEnds(file: string): {
  first?: JournalRecord;
  last?: JournalRecord;
  torn: boolean;
  bytes: number;
} {
  const bytes = fs.statSync(file).size;
  if (!bytes) return { torn: false, bytes };
  const head = readAt(file, 0, Math.min(bytes, EDGE));
  const tail = bytes <= EDGE ? head : readAt(file, bytes - EDGE, EDGE);
  const torn = !tail.endsWith('\n');
  const firstLine = head.split('\n')[0];
  const tailLines = tail.split('\n');
  tailLines.pop();
  // A torn last line is not a record; the one before it is the last whole one.
  const lastLine = tailLines[tailLines.length - 1];
  const first = decodeLine(firstLine);
  const last = lastLine === undefined ? undefined : decodeLine(lastLine);
  return {
    first: typeof first === 'string' ? undefined : first,
    last: typeof last === 'string' || last === undefined ? undefined : last,
    torn,
    bytes,
  };
}

/** Every whole record of a segment in order (a torn final line is left out), with line numbers. */
export function* readSegment(file: string): Generator<{ line: number; text: string }> {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    // A multi-byte character may straddle two reads.
    const dec = new StringDecoder('utf8');
    let rest = '';
    let line = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (!n) break;
      const parts = (rest + dec.write(buf.subarray(0, n))).split('\n');
      rest = parts.pop() ?? '';
      for (const text of parts) yield { line: ++line, text };
    }
  } finally {
    fs.closeSync(fd);
  }
}

export function segmentPath(dir: string, name: string): string {
  return path.join(dir, name);
}
