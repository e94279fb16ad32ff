import fs from 'node:fs';
import { nameFields } from '../util/names.js';
import { ContainerRoot } from './proc-root.js';

/** One line of fs/stat.jsonl (evidence-formats.md). Times are ISO strings with nanoseconds. */
export interface StatRecord {
  path: string;
  pathB64?: string;
  /** The /changes kind: A (added) or C (changed). */
  kind: string;
  type?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  inode?: string;
  nlink?: number;
  atime?: string;
  mtime?: string;
  ctime?: string;
  /** null where the filesystem does not record a birth time. */
  birthtime?: string | null;
  linkTarget?: string;
  linkTargetB64?: string;
  /** Why the path could not be looked at (gone, a symlinked parent that we refused to follow…). */
  error?: string;
}

/** Seconds Date can hold (±8.64e15 ms): a tmpfs takes `touch -d @99999999999999` (year ~3 million). */
const DATE_MAX_SEC = 8_640_000_000_000n;

/**
 * Nanoseconds since the epoch → `2026-11-28T20:17:00.123456789Z`; a time Date cannot hold is kept
 * exactly as `@<seconds>.<nanoseconds>` (GNU date's notation) rather than throwing mid-collection.
 */
export function nsToIso(ns: bigint): string {
  // The common case (after 1970-01-01T00:00:01Z) cut as text: BigInt division for four times per
  // file was a fifth of the stat pass.
  if (ns >= 1_000_000_000n) {
    const digits = ns.toString();
    const secText = digits.slice(0, -9);
    // Up to 12 digits of seconds (year ~33,000) is well inside what Date holds.
    if (secText.length <= 12) return `${isoSeconds(secText)}.${digits.slice(-9)}Z`;
  }
  const sec = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1_000_000_000n;
  if (sec > DATE_MAX_SEC || sec < -DATE_MAX_SEC)
    return `@${sec}.${frac.toString().padStart(9, '0')}`;
  return `${isoSeconds(sec.toString())}.${frac.toString().padStart(9, '0')}Z`;
}

// Files written together share their seconds: formatting a Date four times per file was a tenth of
// the stat pass (10,000 files), so the last few seconds' text is kept.
const secondsText = new Map<string, string>();

/** Whole seconds (decimal text, within Date's range) → `2026-11-28T20:17:00`. */
function isoSeconds(sec: string): string {
  let text = secondsText.get(sec);
  if (text === undefined) {
    text = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
    if (secondsText.size >= 64) secondsText.clear();
    secondsText.set(sec, text);
  }
  return text;
}

function typeOf(st: fs.BigIntStats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character-device';
  if (st.isBlockDevice()) return 'block-device';
  return 'unknown';
}

/**
 * lstat of every candidate for one changed path, through the container's root without following
 * any symlink (see ContainerRoot). A symlink is recorded as a symlink, with its target text.
 */
export function statChanged(root: ContainerRoot, path: string, kind: string): StatRecord[] {
  let found;
  try {
    found = root.locate(path);
  } catch (err) {
    return [{ path, kind, error: `not looked at: ${(err as Error).message}` }];
  }
  if (!found.length) return [{ path, kind, error: 'gone (no such file when stat-ed)' }];
  return found.map((loc) => {
    const name = nameFields(loc.bytes);
    // Keys in the order of evidence-formats.md (path, pathB64, kind, …): the lines stay byte-identical.
    const rec: StatRecord = name.b64
      ? { path: name.text, pathB64: name.b64, kind }
      : { path: name.text, kind };
    const at = ContainerRoot.at(loc.dirFd, loc.name);
    // throwIfNoEntry: false: a file gone since /changes is common, and an exception per file is slow.
    let st: fs.BigIntStats | undefined;
    try {
      st = fs.lstatSync(at, { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      rec.error = (err as Error).message;
      return rec;
    }
    if (!st) {
      rec.error = 'gone (no such file when stat-ed)';
      return rec;
    }
    Object.assign(rec, {
      type: typeOf(st),
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: Number(st.size),
      inode: st.ino.toString(),
      nlink: Number(st.nlink),
      atime: nsToIso(st.atimeNs),
      mtime: nsToIso(st.mtimeNs),
      ctime: nsToIso(st.ctimeNs),
      birthtime: st.birthtimeNs > 0n ? nsToIso(st.birthtimeNs) : null,
    });
    if (st.isSymbolicLink()) {
      // readlink reads the link's own text; it does not follow it.
      const target = nameFields(fs.readlinkSync(at, { encoding: 'buffer' }));
      rec.linkTarget = target.text;
      if (target.b64) rec.linkTargetB64 = target.b64;
    }
    return rec;
  });
}
