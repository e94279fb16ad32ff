import { performance } from 'node:perf_hooks';
import type { TimelineEvent } from '../types.js';
import type { TimelineIndex } from './timeline-index.js';
import { parseBound } from '../../timeline/filter.js';

const CHUNK = 8 * 1024 * 1024;
/** At most this often a search shows the matches it has so far. */
const PARTIAL_MS = 150;

/**
 * Lowers the ASCII capitals of `n` words in place, four bytes at a time (SWAR): a byte gets 0x20
 * when it is 0x41..0x5a ('A'..'Z'); bytes ≥ 0x80 (UTF-8 beyond ASCII) are left as they are.
 */
export function lowerAscii(words: Uint32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const w = words[i];
    const low7 = w & 0x7f7f7f7f;
    // High bit of each byte set when its low 7 bits are ≥ 'A', and (separately) when > 'Z'.
    const geA = low7 + 0x3f3f3f3f;
    const gtZ = low7 + 0x25252525;
    const upper = (geA & ~gtZ & ~w & 0x80808080) >>> 2;
    if (upper) words[i] = w | upper;
  }
}

/** The text of an event a search matches against: what the responder sees, not the JSON keys. */
export function searchableText(e: TimelineEvent): string {
  const ref = e.ref ? `${e.ref.artifact ?? ''} ${e.ref.line ?? ''} ${e.ref.entry ?? ''}` : '';
  const attrs = e.attrs ? JSON.stringify(e.attrs) : '';
  return `${e.message ?? ''}\n${e.source ?? ''}\n${e.kind ?? ''}\n${e.actor ?? ''}\n${e.timestamp_desc ?? ''}\n${e.id ?? ''}\n${ref}\n${attrs}`.toLowerCase();
}

export interface SearchOptions {
  query: string;
  source: string | null;
  signal?: AbortSignal;
  /** Called with the matches so far after each chunk, and once with done=true. */
  onPartial?: (lines: Uint32Array, done: boolean) => void;
}

/**
 * Finds the lines whose event matches `query` (case-insensitive substring) and `source`.
 * The file is scanned as raw bytes in chunks (latin1: one char per byte, so positions are offsets);
 * only lines with a raw hit are parsed to confirm the hit is in a value, not a key.
 */
export async function searchTimeline(ix: TimelineIndex, o: SearchOptions): Promise<Uint32Array> {
  const sid = o.source === null ? -1 : (ix.sourceIdOf(o.source) ?? -2);
  const n = ix.count;
  const q = o.query.toLowerCase();
  if (!q) {
    const out = new Uint32Array(n);
    let k = 0;
    for (let i = 0; i < n; i++) if (sid < 0 || ix.sourceIdAt(i) === sid) out[k++] = i;
    const res = sid === -2 ? new Uint32Array(0) : out.slice(0, k);
    o.onPartial?.(res, true);
    return res;
  }
  // The needle as the file's bytes would spell it (UTF-8, JSON-escaped).
  const needle = Buffer.from(JSON.stringify(q).slice(1, -1), 'utf8');
  // An ASCII needle is looked for in the raw bytes, lowered in place (ASCII letters only, 4 bytes at
  // a time): no string is made of the file. Others keep the latin1 string path, which lowers more.
  const ascii = needle.every((b) => b < 0x80);
  const latin1Needle = needle.toString('latin1');
  let out = new Uint32Array(1024);
  let k = 0;
  // Word-aligned so the bytes can be lowered through a Uint32Array view.
  const buf = Buffer.from(new ArrayBuffer(CHUNK + ((needle.length + 3) & ~3)));
  const words = new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2);
  const [, fileEnd] = n ? ix.range(n - 1) : [0, 0];
  let lastLine = -1;
  let lastPartial = performance.now();
  for (let pos = 0; pos < fileEnd; pos += CHUNK) {
    o.signal?.throwIfAborted();
    // Overlap chunks by the needle's length so a hit across a boundary is not missed.
    const len = ix.read(pos, Math.min(CHUNK + needle.length, fileEnd - pos), buf);
    let find: (from: number) => number;
    if (ascii) {
      lowerAscii(words, (len + 3) >>> 2);
      find = (from) => {
        const at = buf.indexOf(needle, from);
        return at >= 0 && at + needle.length <= len ? at : -1;
      };
    } else {
      const hay = buf.toString('latin1', 0, len).toLowerCase();
      find = (from) => hay.indexOf(latin1Needle, from);
    }
    for (let at = find(0); at >= 0; at = find(at + 1)) {
      const line = ix.lineOfOffset(pos + at);
      if (line <= lastLine) continue;
      lastLine = line;
      if (sid !== -1 && ix.sourceIdAt(line) !== sid) continue;
      if (!searchableText(ix.event(line)).includes(q)) continue;
      if (k === out.length) {
        const grown = new Uint32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[k++] = line;
      // Skip the rest of this line: one match per line is enough.
      const [, lineEnd] = ix.range(line);
      at = Math.max(at, lineEnd - pos - 1);
    }
    // Partial results a few times a second: each one is a new frame, and frames cost more than
    // the scan of a chunk.
    if (performance.now() - lastPartial >= PARTIAL_MS) {
      o.onPartial?.(out.slice(0, k), false);
      lastPartial = performance.now();
    }
    await new Promise((r) => setImmediate(r));
  }
  const res = out.slice(0, k);
  o.onPartial?.(res, true);
  return res;
}

/**
 * Parses what the user typed to jump to: a full ISO time, a date and time without zone (UTC),
 * or a time of day (`12:00`, `12:00:05.25`) on the day of `reference` (µs). Returns µs or undefined.
 */
export function parseJumpTime(text: string, referenceUs: number): number | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const tod = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/.exec(t);
  if (tod) {
    const day = Number.isFinite(referenceUs)
      ? new Date(Math.floor(referenceUs / 1000))
      : new Date();
    const base = Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
    const [h, m, s] = [Number(tod[1]), Number(tod[2]), Number(tod[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) return undefined;
    const frac = tod[4] ? Number(tod[4].padEnd(6, '0')) : 0;
    return (base + ((h * 60 + m) * 60 + s) * 1000) * 1000 + frac;
  }
  // The same rules as `cirt timeline --from` (calendar-checked; no zone means UTC).
  try {
    return parseBound(t, 'UTC', 'time');
  } catch {
    return undefined;
  }
}

/** Index in the view (`lines` or every line) of the first event at or after `us`; the last one if none. */
export function findTime(ix: TimelineIndex, lines: Uint32Array | null, us: number): number {
  const count = lines ? lines.length : ix.count;
  const stamp = (i: number): number => ix.timestampAt(lines ? lines[i] : i);
  if (!count) return 0;
  if (ix.sorted) {
    let lo = 0;
    let hi = count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (stamp(mid) < us) lo = mid + 1;
      else hi = mid;
    }
    return Math.min(lo, count - 1);
  }
  // Unsorted file: the closest event in time.
  let best = 0;
  for (let i = 1; i < count; i++)
    if (Math.abs(stamp(i) - us) < Math.abs(stamp(best) - us)) best = i;
  return best;
}
