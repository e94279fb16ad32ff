import { sortByBytes } from './changes.js';

/**
 * Which archive requests fetch a diff's content: one request per changed path costs ~50 ms each
 * (10,000 added files in /tmp took 9 minutes), so a directory holding many changed children is
 * fetched once instead, and the members that are not listed in /changes are marked as context.
 */

/** A parent with at least this many changed children (files, links, added directories) is fetched whole. */
export const GROUP_MIN_CHILDREN = 8;

export interface PlannedRequest {
  path: string;
  /** `path`: the changed path itself; `directory`: a parent fetched for its changed children. */
  kind: 'path' | 'directory';
  /** A changed path with nothing listed below it: fetched only if the engine says it is not a directory. */
  leaf?: boolean;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function isUnder(p: string, dir: string): boolean {
  return p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/** Whether a proper ancestor of `p` (other than `/`) is in `dirs`. */
function ancestorIn(p: string, dirs: ReadonlySet<string>): boolean {
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1))
    if (dirs.has(p.slice(0, i))) return true;
  return false;
}

/**
 * Groups the paths to fetch by parent directory. A parent qualifies with `minChildren` or more of
 * them, unless it is `/` (the whole filesystem), its name was printed lossily (not UTF-8), or it is
 * excluded (a request of it was already cut by a budget). Only top-most qualifying parents are
 * kept; every path under one is covered by its request.
 */
export function groupRequests(
  added: readonly string[],
  changedLeaves: readonly string[],
  opts: { minChildren?: number; excluded?: ReadonlySet<string> } = {},
): PlannedRequest[] {
  const min = opts.minChildren ?? GROUP_MIN_CHILDREN;
  const excluded = opts.excluded ?? new Set<string>();
  const counts = new Map<string, number>();
  for (const p of [...added, ...changedLeaves]) {
    const parent = parentOf(p);
    counts.set(parent, (counts.get(parent) ?? 0) + 1);
  }
  const qualifying = [...counts]
    .filter(([dir, n]) => n >= min && dir !== '/' && !dir.includes('\ufffd') && !excluded.has(dir))
    .map(([dir]) => dir);
  // Ancestor look-ups in sets, not scans: thousands of directories each with a few files stay linear.
  const qualified = new Set(qualifying);
  const groups = qualifying.filter((d) => !ancestorIn(d, qualified));
  const grouped = new Set(groups);
  const covered = (p: string) => ancestorIn(p, grouped);
  const out: PlannedRequest[] = groups.map((path) => ({ path, kind: 'directory' as const }));
  for (const p of added) if (!covered(p)) out.push({ path: p, kind: 'path' });
  for (const p of changedLeaves) if (!covered(p)) out.push({ path: p, kind: 'path', leaf: true });
  return sortByBytes(out, (r) => r.path);
}

/** Whether a container path is the request's path or lies below it. */
export function inRequest(p: string, request: string): boolean {
  return p === request || isUnder(p, request);
}

/** A key that matches a /changes path to an archive name: runs of U+FFFD count as one (decoders differ there). */
export function pathKey(p: string): string {
  return p.includes('\ufffd') ? p.replace(/\ufffd+/g, '\ufffd') : p;
}
