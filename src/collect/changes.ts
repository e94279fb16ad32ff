/** One entry of `GET /containers/{id}/changes`: Kind 0 = changed, 1 = added, 2 = deleted. */
export interface Change {
  Path: string;
  Kind: number;
}

/**
 * Which archive requests fetch the content of a diff, and why.
 *
 * The rule (fewest requests, no unchanged content):
 * - an added path (A) is fetched unless an ancestor is fetched: an added directory's archive
 *   already holds everything under it, and everything under a new directory is new;
 * - a changed path (C) with changed/added/deleted paths below it is a directory whose entries
 *   changed: it is never fetched (its archive would pull every unchanged sibling); its changed
 *   descendants are fetched on their own;
 * - a changed path with nothing listed below it is a modified file, link, or a directory whose own
 *   metadata changed (chmod, touch): it goes to `changedLeaves`, and the caller fetches it only if
 *   the engine's stat says it is not a directory;
 * - deleted paths (D) are listed, never fetched.
 */
export interface FetchPlan {
  /** Added paths to fetch, top-most only, sorted. */
  added: string[];
  /** Changed paths with nothing listed below them (files, or directories whose own metadata changed). */
  changedLeaves: string[];
  /** Changed directories with listed descendants: never fetched. */
  changedDirs: string[];
  deleted: string[];
  /** Added paths already inside an added directory's request. */
  covered: number;
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/** Plans the archive requests for a diff (pure; see FetchPlan for the rule). */
export function planFetch(changes: readonly Change[]): FetchPlan {
  const withDescendants = new Set<string>();
  const addedSet = new Set<string>();
  for (const c of changes) {
    for (const a of ancestors(c.Path)) withDescendants.add(a);
    if (c.Kind === 1) addedSet.add(c.Path);
  }
  const plan: FetchPlan = {
    added: [],
    changedLeaves: [],
    changedDirs: [],
    deleted: [],
    covered: 0,
  };
  const seen = new Set<string>();
  for (const c of changes) {
    if (seen.has(c.Path)) continue;
    seen.add(c.Path);
    if (c.Kind === 2) plan.deleted.push(c.Path);
    else if (c.Kind === 1) {
      if (ancestors(c.Path).some((a) => addedSet.has(a))) plan.covered++;
      else plan.added.push(c.Path);
    } else if (withDescendants.has(c.Path)) plan.changedDirs.push(c.Path);
    else plan.changedLeaves.push(c.Path);
  }
  for (const list of [plan.added, plan.changedLeaves, plan.changedDirs, plan.deleted])
    sortByBytes(list);
  return plan;
}

// UTF-16 code-unit order is UTF-8 byte order for every string below U+D800 (a surrogate or
// U+E000…U+FFFF, U+FFFD included, is where the two differ).
const NOT_PLAIN = /[\ud800-\uffff]/;

/**
 * Sorts in place like `LC_ALL=C sort` over the UTF-8 bytes (a lone surrogate as U+FFFD, as
 * Buffer.from encodes it), sorting by `key`. Each key is encoded once, not once per comparison
 * (converting in the comparator was a tenth of a 10,000-file fs-diff).
 */
export function sortByBytes<T>(
  list: T[],
  key: (x: T) => string = (x) => x as unknown as string,
): T[] {
  if (!list.some((x) => NOT_PLAIN.test(key(x)))) {
    return list.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
  }
  const decorated = list.map((x) => ({ x, b: Buffer.from(key(x)) }));
  decorated.sort((a, b) => Buffer.compare(a.b, b.b));
  for (let i = 0; i < list.length; i++) list[i] = decorated[i].x;
  return list;
}

/** The directory that holds the entries of an archive of `p` (the archive names start with p's base name). */
function archiveParent(p: Buffer): Buffer {
  let end = p.length;
  while (end > 1 && p[end - 1] === 0x2f) end--;
  const slash = p.lastIndexOf(0x2f, end - 1);
  return slash <= 0 ? Buffer.from('/') : p.subarray(0, slash);
}

const SLASH = Buffer.from('/');

/** Joins the archive's parent directory and an entry name (`h/x`, `h/`, `./h`) into an absolute path. */
export function entryPath(parent: Buffer, name: Buffer): Buffer {
  let start = 0;
  let end = name.length;
  while (start + 1 < end && name[start] === 0x2e && name[start + 1] === 0x2f) start += 2;
  while (end > start && name[end - 1] === 0x2f) end--;
  const rel = name.subarray(start, end);
  return parent.length === 1 && parent[0] === 0x2f
    ? Buffer.concat([SLASH, rel])
    : Buffer.concat([parent, SLASH, rel]);
}

/**
 * The container path of an entry of `GET /archive?path=<request>`. The engine names the top entry
 * after the requested base name, but re-encodes a non-UTF-8 base name lossily; since we asked for
 * exact bytes, those are put back when the engine's name is that base name (exact or lossy).
 */
export function requestEntryPath(request: Buffer, name: Buffer): Buffer {
  return requestEntryMapper(request)(name);
}

/** requestEntryPath for one request, its parent and base name worked out once (it runs per member). */
export function requestEntryMapper(request: Buffer): (name: Buffer) => Buffer {
  const parent = archiveParent(request);
  let end = request.length;
  while (end > 1 && request[end - 1] === 0x2f) end--;
  const base = request.subarray(request.lastIndexOf(0x2f, end - 1) + 1, end);
  const lossyBase = Buffer.from(base.toString('utf8'));
  const top = request.subarray(0, end);
  const root = Buffer.from('/');
  return (name) => {
    const full = entryPath(root, name);
    const slash = full.indexOf(0x2f, 1);
    const first = full.subarray(1, slash < 0 ? full.length : slash);
    if (first.equals(base) || first.equals(lossyBase)) {
      return slash < 0 ? Buffer.from(top) : Buffer.concat([top, full.subarray(slash)]);
    }
    return entryPath(parent, name);
  };
}
