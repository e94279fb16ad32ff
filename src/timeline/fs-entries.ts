import { latestOf, readJson, type Diagnostics } from './artifacts.js';
import { jsonObjects } from './lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import { badTimeText, parseAnyTime, type Instant } from './time.js';

export type ChangeKind = 'added' | 'changed' | 'deleted';
const KINDS: Record<number, ChangeKind> = { 0: 'changed', 1: 'added', 2: 'deleted' };

/** Where one path's facts came from (for finding evidence and event refs). */
export interface FsRefs {
  changes?: { artifact: string; entry: number };
  diffIndex?: { artifact: string; line: number };
  stat?: { artifact: string; line: number };
}

/** One changed path, joined from fs/changes.json, fs/diff-index.jsonl and fs/stat.jsonl (and a file under a mount, from fs/mounts-index.jsonl). */
export interface FsEntry {
  path: string;
  pathB64?: string;
  change?: ChangeKind;
  /** `file`, `directory`, `symlink`, … */
  type?: string;
  /** Permission bits incl. setuid/setgid/sticky (no file-type bits). */
  mode?: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** Decimal digits: fs/stat.jsonl writes the (64-bit) inode as text so it stays exact. */
  inode?: string;
  linkname?: string;
  sha256?: string | null;
  /** Whole-second mtime from the archive header (diff-index). */
  tarMtime?: Instant;
  /** Full stat times through /proc/<pid>/root (local engines). */
  stat?: { atime?: Instant; mtime?: Instant; ctime?: Instant; birthtime?: Instant };
  refs: FsRefs;
}

const S_IFMT = 0o170000;
const TYPE_BITS: Record<number, string> = {
  0o140000: 'socket',
  0o120000: 'symlink',
  0o100000: 'file',
  0o060000: 'block-device',
  0o040000: 'directory',
  0o020000: 'character-device',
  0o010000: 'fifo',
};

const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** An inode as digits, from the text stat.jsonl writes (exact past 2^53) or a plain JSON number. */
const inodeOf = (v: unknown): string | undefined =>
  typeof v === 'string' && /^\d{1,20}$/.test(v)
    ? v.replace(/^0+(?=\d)/, '')
    : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
      ? String(v)
      : undefined;

/** A tar/stat type name in one vocabulary (`file` for tar's `file`/`contiguous-file`, stat's `file`/`regular`). */
function normType(t: unknown, mode?: number): string | undefined {
  if (typeof mode === 'number' && mode & S_IFMT) return TYPE_BITS[mode & S_IFMT];
  if (typeof t !== 'string') return undefined;
  if (t === 'regular' || t === 'contiguous-file' || t === 'file') return 'file';
  if (t === 'dir') return 'directory';
  if (t === 'link') return 'hardlink';
  return t;
}

/**
 * Loads every changed path with what the case knows of it. Lines are keyed by path; the first
 * diff-index line of a path wins (a path archived twice keeps its first entry). Bad lines are warnings.
 */
export async function loadFsEntries(
  src: CaseSource,
  files: readonly string[],
  diag: Diagnostics,
): Promise<{ entries: FsEntry[]; changesArtifact?: string }> {
  const byPath = new Map<string, FsEntry>();
  const get = (p: string): FsEntry => {
    let e = byPath.get(p);
    if (!e) byPath.set(p, (e = { path: p, refs: {} }));
    return e;
  };
  const changesRel = latestOf(files, 'fs/changes.json');
  if (changesRel) {
    const doc = await readJson<unknown>(src, changesRel, diag);
    if (Array.isArray(doc)) {
      doc.forEach((c: { Path?: unknown; Kind?: unknown }, entry) => {
        if (typeof c?.Path !== 'string' || KINDS[c.Kind as number] === undefined) {
          diag.warn(`${changesRel}: entry ${entry} is not {Path, Kind}; skipped`, changesRel);
          return;
        }
        const e = get(c.Path);
        e.change = KINDS[c.Kind as number];
        e.refs.changes = { artifact: changesRel, entry };
      });
    } else if (doc !== null && doc !== undefined)
      diag.warn(`${changesRel}: not a list; skipped`, changesRel);
  } else diag.note('fs: no fs/changes.json; file changes unknown');

  // A time that is there but unusable (text that is no time, an mtime of 1e300) loses only that time.
  const timeOf = (
    o: Record<string, unknown>,
    field: string,
    rel: string,
    line: number,
  ): Instant | undefined => {
    const v = o[field];
    if (v === undefined || v === null) return undefined;
    const at = parseAnyTime(v);
    if (!at)
      diag.warn(
        `${rel}:${line}: ${field} ${badTimeText(v)} is not a time the timeline can place (out of range or not a time); that time is left out`,
        rel,
      );
    return at;
  };

  await eachJsonLine(src, latestOf(files, 'fs/diff-index.jsonl'), diag, (o, rel, line) => {
    // Unchanged members that came along with a directory request are not changes.
    if (o.role === 'context') return;
    const p = str(o.path);
    if (!p) return diag.warn(`${rel}:${line}: no path; skipped`, rel);
    const e = get(p);
    if (e.refs.diffIndex) return;
    e.refs.diffIndex = { artifact: rel, line };
    e.pathB64 ??= str(o.pathB64);
    e.type ??= normType(o.type);
    if (num(o.mode) !== undefined) e.mode ??= num(o.mode)! & 0o7777;
    e.uid ??= num(o.uid);
    e.gid ??= num(o.gid);
    e.size ??= num(o.size);
    e.linkname ??= str(o.linkname) ?? undefined;
    e.sha256 = typeof o.sha256 === 'string' ? o.sha256 : null;
    e.tarMtime = timeOf(o, 'mtime', rel, line);
  });

  await eachJsonLine(src, latestOf(files, 'fs/stat.jsonl'), diag, (o, rel, line) => {
    const p = str(o.path);
    if (!p) return diag.warn(`${rel}:${line}: no path; skipped`, rel);
    const e = get(p);
    e.refs.stat = { artifact: rel, line };
    const mode = num(o.mode);
    // stat is the live truth; it overrides the archive header's view.
    e.type = normType(o.type, mode) ?? e.type;
    if (mode !== undefined) e.mode = mode & 0o7777;
    e.uid = num(o.uid) ?? e.uid;
    e.gid = num(o.gid) ?? e.gid;
    e.size = num(o.size) ?? e.size;
    e.inode = inodeOf(o.inode) ?? e.inode;
    if (!e.change && typeof o.kind === 'string')
      e.change =
        ({ A: 'added', C: 'changed', D: 'deleted' } as Record<string, ChangeKind>)[o.kind] ??
        (o.kind as ChangeKind);
    e.stat = {
      atime: timeOf(o, 'atime', rel, line),
      mtime: timeOf(o, 'mtime', rel, line),
      ctime: timeOf(o, 'ctime', rel, line),
      birthtime: timeOf(o, 'birthtime', rel, line),
    };
  });
  // Files under mounts (tmpfs, volumes, the engine's /etc files), which /changes never lists.
  await eachJsonLine(src, latestOf(files, 'fs/mounts-index.jsonl'), diag, (o, rel, line) => {
    const p = str(o.path);
    if (!p) return diag.warn(`${rel}:${line}: no path; skipped`, rel);
    // The mount point of a nested mount: that mount's own root line describes it.
    if (typeof o.note === 'string' && o.note.startsWith('another mount')) return;
    const e = get(p);
    if (e.refs.stat) return;
    e.refs.stat = { artifact: rel, line };
    e.pathB64 ??= str(o.pathB64);
    const mode = num(o.mode);
    e.type = normType(o.type) ?? e.type;
    if (mode !== undefined) e.mode = mode & 0o7777;
    e.uid = num(o.uid) ?? e.uid;
    e.gid = num(o.gid) ?? e.gid;
    e.size = num(o.size) ?? e.size;
    e.inode = inodeOf(o.inode) ?? e.inode;
    e.linkname ??= str(o.linkname);
    // A prefix's hash is not the file's hash: a truncated file has none here.
    e.sha256 = o.truncated === true ? null : (str(o.sha256) ?? null);
    if (!e.change && o.change === 'added') e.change = 'added';
    e.stat = {
      atime: timeOf(o, 'atime', rel, line),
      mtime: timeOf(o, 'mtime', rel, line),
      ctime: timeOf(o, 'ctime', rel, line),
      birthtime: timeOf(o, 'birthtime', rel, line),
    };
  });
  return { entries: [...byPath.values()], changesArtifact: changesRel };
}

async function eachJsonLine(
  src: CaseSource,
  rel: string | undefined,
  diag: Diagnostics,
  fn: (o: Record<string, unknown>, rel: string, line: number) => void,
): Promise<void> {
  if (!rel) return;
  for await (const { o, line } of jsonObjects(src.createReadStream(rel), rel, (m) =>
    diag.warn(m, rel),
  ))
    fn(o, rel, line);
}

/** `-rwsr-xr-x` from a type and permission bits (ls style, as mactime prints it). */
export function modeString(type: string | undefined, mode: number | undefined): string {
  const t =
    (
      {
        directory: 'd',
        symlink: 'l',
        'character-device': 'c',
        'block-device': 'b',
        fifo: 'p',
        socket: 's',
      } as Record<string, string>
    )[type ?? ''] ?? '-';
  if (mode === undefined) return `${t}---------`;
  const rwx = (bits: number, special: boolean, ch: string): string =>
    `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${special ? (bits & 1 ? ch : ch.toUpperCase()) : bits & 1 ? 'x' : '-'}`;
  return (
    t +
    rwx(mode >> 6, Boolean(mode & 0o4000), 's') +
    rwx(mode >> 3, Boolean(mode & 0o2000), 's') +
    rwx(mode, Boolean(mode & 0o1000), 't')
  );
}
