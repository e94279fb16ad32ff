import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * `--filter key=value` in the docker CLI's syntax, matched the way dockerd matches `docker ps
 * --filter` (moby `daemon/list.go`, `api/types/filters/parse.go`), so a filter a responder already
 * typed for `docker ps` selects the same containers here:
 *
 * - different keys AND together; the values of one key OR together — except `label`, whose values
 *   must ALL hold (moby's `MatchKVList`): `label=app=web label=tier` needs both;
 * - `name` and `id`: the value equals, or is a regular expression found in, the container's
 *   `/name` (with the engine's leading slash: `name=^/web` anchors) or full id;
 * - `label=key` (present, any value) or `label=key=value` (exactly that value);
 * - `status`: one of the engine's state words; giving it also includes stopped containers;
 * - `ancestor`: an image name[:tag], id (or a unique prefix), or name@digest, and every image
 *   built on it (the image's descendants), matched by image id;
 * - `network`: a network's exact name, or a prefix of its id.
 *
 * Pure: the engine's listing and image graph come in as data (see `ancestorImages`).
 */

/** The keys cirt matches. */
export const FILTER_KEYS = ['label', 'ancestor', 'network', 'name', 'id', 'status'] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Keys `docker ps` knows that cirt does not match (yet): named in the error instead of "unknown". */
const DOCKER_ONLY_KEYS = [
  'before',
  'since',
  'exited',
  'health',
  'expose',
  'publish',
  'volume',
  'isolation',
  'is-task',
];

/** The engine's container state words (moby `container.IsValidStateString`). */
export const STATES = [
  'created',
  'restarting',
  'running',
  'removing',
  'paused',
  'exited',
  'dead',
] as const;

/** Parsed filters: each key's distinct values, in the order given. */
export interface ContainerFilter {
  readonly values: ReadonlyMap<FilterKey, readonly string[]>;
  /** The `key=value` texts as given, for messages and the incident's manifest. */
  readonly given: readonly string[];
}

/** What the matcher needs of one container (a listing row, no inspect). */
export interface FilterSubject {
  id: string;
  /** Without the engine's leading slash. */
  name: string;
  labels: Readonly<Record<string, string>>;
  state: string;
  imageId: string;
  networks: readonly { name: string; id: string }[];
}

/** One image of the engine's image list, enough to resolve names and walk to descendants. */
export interface ImageNode {
  id: string;
  /** The image it was built on ('' when none). */
  parent: string;
  /** `repo:tag`. */
  tags: readonly string[];
  /** `repo@sha256:…`. */
  digests: readonly string[];
}

/**
 * Parses `--filter` texts; every problem is reported at once (a filter that means something other
 * than what was typed must never select containers to freeze).
 */
export function parseFilters(texts: readonly string[]): ContainerFilter {
  const values = new Map<FilterKey, string[]>();
  const problems: string[] = [];
  for (const text of texts) {
    const eq = text.indexOf('=');
    if (eq < 0) {
      problems.push(`"${safeText(text)}" is not key=value`);
      continue;
    }
    // As the docker CLI does: the key is case-insensitive, both sides are trimmed.
    const key = text.slice(0, eq).trim().toLowerCase();
    const value = text.slice(eq + 1).trim();
    if (!(FILTER_KEYS as readonly string[]).includes(key)) {
      problems.push(
        DOCKER_ONLY_KEYS.includes(key)
          ? `"${safeText(key)}" is a docker filter cirt does not match`
          : `"${safeText(key)}" is not a filter`,
      );
      continue;
    }
    const k = key as FilterKey;
    if (!value) {
      problems.push(`${k}= needs a value`);
      continue;
    }
    if (k === 'status' && !(STATES as readonly string[]).includes(value))
      problems.push(`status=${safeText(value)}: the status is one of ${STATES.join(', ')}`);
    if (k === 'label' && value.startsWith('='))
      problems.push(`label=${safeText(value)}: the label's key is missing`);
    const list = values.get(k) ?? [];
    if (!list.includes(value)) list.push(value);
    values.set(k, list);
  }
  if (problems.length) {
    throw new UserError(`Bad --filter: ${problems.join('; ')}`, {
      hint: `Filters are key=value with key one of ${FILTER_KEYS.join(', ')} (e.g. label=app=web, ancestor=nginx:1.25, network=backend, name=^/web-, status=running).`,
    });
  }
  return { values, given: [...texts] };
}

/** Whether the filter looks at stopped containers too (docker: a `status` filter implies `--all`). */
export function includesStopped(f: ContainerFilter): boolean {
  return f.values.has('status');
}

/** moby `Args.Match`: an exact value, or a regular expression found in the text (a bad one matches nothing). */
function matchAny(patterns: readonly string[], text: string): boolean {
  if (patterns.includes(text)) return true;
  return patterns.some((p) => {
    try {
      return new RegExp(p).test(text);
    } catch {
      return false;
    }
  });
}

/** moby `Args.MatchKVList`: every `key` / `key=value` holds. */
function matchLabels(wanted: readonly string[], labels: Readonly<Record<string, string>>): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const key = eq < 0 ? w : w.slice(0, eq);
    if (!Object.hasOwn(labels, key)) return false;
    return eq < 0 || labels[key] === w.slice(eq + 1);
  });
}

/**
 * Whether a container passes every filter. `ancestors` is the set of image ids the `ancestor`
 * values resolved to (with descendants): needed only when the filter has `ancestor`.
 */
export function matchContainer(
  f: ContainerFilter,
  c: FilterSubject,
  ancestors?: ReadonlySet<string>,
): boolean {
  const v = f.values;
  const names = v.get('name');
  if (names && !matchAny(names, `/${c.name}`)) return false;
  const ids = v.get('id');
  if (ids && !matchAny(ids, c.id)) return false;
  const labels = v.get('label');
  if (labels && !matchLabels(labels, c.labels)) return false;
  const states = v.get('status');
  if (states && !states.includes(c.state)) return false;
  if (v.has('ancestor') && !(ancestors?.has(c.imageId) ?? false)) return false;
  const nets = v.get('network');
  if (
    nets &&
    !nets.some((n) => c.networks.some((x) => x.name === n || (x.id !== '' && x.id.startsWith(n))))
  )
    return false;
  return true;
}

/** `busybox` → `busybox:latest`; `docker.io/library/x` → `x` (the names the engine lists). */
export function normaliseImageRef(ref: string): string {
  let r = ref.replace(/^docker\.io\//, '').replace(/^index\.docker\.io\//, '');
  r = r.replace(/^library\//, '');
  if (r.includes('@')) return r;
  const slash = r.lastIndexOf('/');
  return r.indexOf(':', slash + 1) < 0 ? `${r}:latest` : r;
}

/** The id an `ancestor` value names on this image list, or undefined (unknown, or an ambiguous prefix). */
export function resolveImage(value: string, images: readonly ImageNode[]): string | undefined {
  const bare = (id: string): string => id.replace(/^sha256:/, '');
  const want = value.trim();
  const exact = images.find((i) => i.id === want || bare(i.id) === want);
  if (exact) return exact.id;
  const ref = normaliseImageRef(want);
  const named = images.find((i) =>
    ref.includes('@')
      ? i.digests.some((d) => normaliseImageRef(d) === ref)
      : i.tags.some((t) => normaliseImageRef(t) === ref),
  );
  if (named) return named.id;
  // A short id, as the engine accepts one: a hex prefix that names exactly one image.
  const hex = bare(want);
  if (/^[0-9a-f]{1,64}$/.test(hex)) {
    const hits = images.filter((i) => bare(i.id).startsWith(hex));
    if (hits.length === 1) return hits[0].id;
  }
  return undefined;
}

/**
 * The image ids an `ancestor` filter selects: each value's image and all its descendants (moby
 * walks the children the same way). Values naming no image are returned in `unknown`.
 */
export function ancestorImages(
  f: ContainerFilter,
  images: readonly ImageNode[],
): { ids: Set<string>; unknown: string[] } {
  const ids = new Set<string>();
  const unknown: string[] = [];
  const children = new Map<string, string[]>();
  for (const i of images) {
    if (!i.parent) continue;
    const list = children.get(i.parent) ?? [];
    list.push(i.id);
    children.set(i.parent, list);
  }
  for (const value of f.values.get('ancestor') ?? []) {
    const id = resolveImage(value, images);
    if (!id) {
      unknown.push(value);
      continue;
    }
    const stack = [id];
    while (stack.length) {
      const x = stack.pop()!;
      if (ids.has(x)) continue;
      ids.add(x);
      stack.push(...(children.get(x) ?? []));
    }
  }
  return { ids, unknown };
}
