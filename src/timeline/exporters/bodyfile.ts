import type { TimelineEvent } from '../event.js';
import { modeString } from '../fs-entries.js';
import { unixSeconds } from '../time.js';

/**
 * Sleuth Kit bodyfile (`mactime -b`): `MD5|name|inode|mode_as_string|UID|GID|size|atime|mtime|ctime|crtime`,
 * Unix seconds, one line per changed path.
 *
 * Escaping of `name` (mactime splits on every `|`, so `\|` would not do): `\` → `\\`, `|` → `\x7c`,
 * LF → `\n`, CR → `\r`, TAB → `\t`, other control characters (C0, DEL, C1) → `\xHH`. Everything else
 * is written as UTF-8. `unescapeBodyName` reverses it exactly. A deleted path gets ` (deleted)`
 * appended, as `fls` does. MD5 is `0` (the evidence holds sha256, in timeline.jsonl's attrs).
 */
// eslint-disable-next-line no-control-regex
const BODY_UNSAFE = /[\\|\u0000-\u001f\u007f-\u009f]/g;

export function escapeBodyName(name: string): string {
  return name.replace(BODY_UNSAFE, (ch) => {
    if (ch === '\\') return '\\\\';
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function unescapeBodyName(text: string): string {
  return text.replace(/\\(\\|n|r|t|x[0-9a-f]{2})/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    if (c === 't') return '\t';
    return String.fromCharCode(parseInt(c.slice(1), 16));
  });
}

/** The inode column: digits as they were collected, `0` when unknown. */
function inodeText(v: unknown): string {
  if (typeof v === 'string' && /^\d{1,20}$/.test(v)) return v;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : '0';
}

interface FileRow {
  path: string;
  deleted: boolean;
  /** Digits (stat.jsonl keeps 64-bit inodes as text; a number would round them). */
  inode: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  times: { atime: number; mtime: number; ctime: number; birthtime: number };
}

/** Gathers the fs events of each path (its mtime/atime/ctime/birth events) into one bodyfile line. */
export class BodyfileBuilder {
  private readonly rows = new Map<string, FileRow>();

  /** Takes any event; only `fs` events with a path contribute. */
  add(e: TimelineEvent): void {
    if (e.source !== 'fs') return;
    const a = e.attrs as {
      path?: unknown;
      change?: unknown;
      type?: string;
      mode?: number;
      uid?: unknown;
      gid?: unknown;
      size?: unknown;
      inode?: unknown;
      timeFields?: unknown;
    };
    if (typeof a.path !== 'string') return;
    let row = this.rows.get(a.path);
    if (!row) {
      const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
      row = {
        path: a.path,
        deleted: a.change === 'deleted',
        inode: inodeText(a.inode),
        mode: modeString(a.type, typeof a.mode === 'number' ? a.mode : undefined),
        uid: n(a.uid),
        gid: n(a.gid),
        size: n(a.size),
        times: { atime: 0, mtime: 0, ctime: 0, birthtime: 0 },
      };
      this.rows.set(a.path, row);
    }
    for (const f of Array.isArray(a.timeFields) ? (a.timeFields as unknown[]) : []) {
      if (f === 'atime' || f === 'mtime' || f === 'ctime' || f === 'birthtime')
        row.times[f] = unixSeconds(e.timestamp);
    }
  }

  get size(): number {
    return this.rows.size;
  }

  /** The lines, sorted by path (mactime sorts by time itself). */
  *lines(): Generator<string> {
    for (const r of [...this.rows.values()].sort((a, b) =>
      a.path < b.path ? -1 : a.path > b.path ? 1 : 0,
    )) {
      const name = escapeBodyName(r.path) + (r.deleted ? ' (deleted)' : '');
      const t = r.times;
      yield `0|${name}|${r.inode}|${r.mode}|${r.uid}|${r.gid}|${r.size}|${t.atime}|${t.mtime}|${t.ctime}|${t.birthtime}\n`;
    }
  }
}
