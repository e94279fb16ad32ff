import { UserError } from '../errors.js';
import { isKind } from '../runtime/errors.js';
import {
  ancestorImages,
  includesStopped,
  matchContainer,
  type ContainerFilter,
} from '../runtime/filters.js';
import type {
  ContainerFacts,
  ContainerRuntime,
  ContainerSummary,
  RuntimeInfo,
  Target,
} from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';

/** One engine a run may reach, under the name the user knows it by. */
export interface EngineHandle {
  name: string;
  runtime: ContainerRuntime;
}

/** One container a multi-target run will handle, with the engine it is on. */
export interface SelectedTarget {
  engine: EngineHandle;
  target: Target;
}

/** The default number of containers a selection may hold before it is refused (`--max-targets`). */
export const DEFAULT_MAX_TARGETS = 100;

/** The engine's name as the user picks it (a docker context, a configured engine), else `default`. */
export function engineNameOf(info: RuntimeInfo): string {
  return info.name || 'default';
}

/** `engine/name`: the container `name` on engine `engine` (a container or context name has no `/`). */
export function splitRef(ref: string): { engine?: string; ref: string } {
  const slash = ref.indexOf('/', 1);
  return slash < 0 ? { ref } : { engine: ref.slice(0, slash), ref: ref.slice(slash + 1) };
}

/** How a target is named in messages and output: `web-1` on one engine, `web-1@e2` on several. */
export function targetLabel(t: SelectedTarget, engines: number): string {
  return engines > 1 ? `${t.target.name}@${t.engine.name}` : t.target.name;
}

/** The target a run needs, from an inspect (as the runtime's resolve makes it). */
function targetOf(f: ContainerFacts, engine: string): Target {
  return {
    id: f.id,
    name: f.name,
    engine,
    image: f.image,
    imageId: f.imageId,
    state: f.state.status,
    running: f.state.running,
    paused: f.state.paused,
    pid: f.state.pid,
  };
}

/** The listing row as the filter matcher sees it. */
function subjectOf(c: ContainerSummary) {
  return {
    id: c.id,
    name: c.name,
    labels: c.labels ?? {},
    state: c.state,
    imageId: c.imageId ?? '',
    networks: c.networks,
  };
}

/** The containers of one engine that pass the filter (listing rows, not yet inspected). */
export async function matchOnEngine(
  runtime: ContainerRuntime,
  filter: ContainerFilter,
  all: boolean,
): Promise<ContainerSummary[]> {
  const wantsAncestor = filter.values.has('ancestor');
  const [list, images] = await Promise.all([
    runtime.list({ all: all || includesStopped(filter) }),
    wantsAncestor ? runtime.images() : Promise.resolve([]),
  ]);
  const ancestors = wantsAncestor ? ancestorImages(filter, images).ids : undefined;
  return list.filter((c) => matchContainer(filter, subjectOf(c), ancestors));
}

/**
 * The set a multi-target run acts on: every `-t` (resolved exactly as a single run resolves it, on
 * the engine named by `engine/` or else on the one engine that has it) and every container the
 * filter matches on the chosen engines, each once. Nothing matched and more than `max` are usage
 * errors (exit 2) raised before anything is touched: a typo in a filter must not freeze a host.
 */
export async function selectTargets(o: {
  engines: EngineHandle[];
  refs: readonly string[];
  filter?: ContainerFilter;
  all?: boolean;
  max: number;
  /** An engine that could not be listed (the others still count), for stderr. */
  onProblem?: (text: string) => void;
}): Promise<SelectedTarget[]> {
  const picked = new Map<string, SelectedTarget>();
  const add = (t: SelectedTarget): void => {
    picked.set(`${t.engine.name}\0${t.target.id}`, t);
  };
  for (const raw of o.refs) add(await resolveRef(o.engines, raw));
  if (o.filter) {
    const listed = await Promise.all(
      o.engines.map(async (engine) => {
        try {
          return { engine, rows: await matchOnEngine(engine.runtime, o.filter!, Boolean(o.all)) };
        } catch (err) {
          if (o.engines.length === 1 || !isKind(err, 'unreachable')) throw err;
          o.onProblem?.(`engine ${engine.name} could not be listed: ${(err as Error).message}`);
          return { engine, rows: [] };
        }
      }),
    );
    const rows = listed.flatMap((l) => l.rows.map((row) => ({ engine: l.engine, row })));
    if (rows.length + picked.size > o.max) throw tooMany(rows.length + picked.size, o);
    // Inspect each (bounded): the run needs its pid and state, and a container gone since the
    // listing is dropped here rather than failing later as a target.
    await eachLimited(rows, 16, async ({ engine, row }) => {
      try {
        // An inspect by id, not resolve(): resolve lists every container again for each one.
        add({ engine, target: targetOf(await engine.runtime.inspect(row), engine.name) });
      } catch (err) {
        if (!isKind(err, 'gone', 'not-found')) throw err;
        o.onProblem?.(`container ${safeText(row.name)} was removed while the filter was applied`);
      }
    });
  }
  const targets = [...picked.values()].sort(
    (a, b) =>
      a.engine.name.localeCompare(b.engine.name) || a.target.name.localeCompare(b.target.name),
  );
  if (!targets.length) {
    throw new UserError(
      `No container matches ${describeSelection(o)} on ${o.engines.length === 1 ? `engine ${o.engines[0].name}` : `engines ${o.engines.map((e) => e.name).join(', ')}`}; nothing was run`,
      {
        hint: `Check the filter with \`cirt ps ${o.filter ? o.filter.given.map((g) => `--filter ${g}`).join(' ') : ''}${o.all ? ' --all' : ''}\` (stopped containers count only with --all or a status filter).`,
      },
    );
  }
  if (targets.length > o.max) throw tooMany(targets.length, o);
  return targets;
}

function describeSelection(o: { refs: readonly string[]; filter?: ContainerFilter }): string {
  return [
    ...o.refs.map((r) => `-t ${safeText(r)}`),
    ...(o.filter?.given ?? []).map((g) => `--filter ${safeText(g)}`),
  ].join(' ');
}

function tooMany(n: number, o: { max: number; refs: readonly string[]; filter?: ContainerFilter }) {
  return new UserError(
    `${describeSelection(o)} selects ${n} containers, more than --max-targets ${o.max}; nothing was run`,
    {
      hint: `Narrow the filter (check it with \`cirt ps --filter …\`), or raise --max-targets if ${n} is what you mean.`,
    },
  );
}

async function resolveRef(engines: EngineHandle[], raw: string): Promise<SelectedTarget> {
  const { engine: named, ref } = splitRef(raw);
  if (named !== undefined) {
    const engine = engines.find((e) => e.name === named);
    if (!engine)
      throw new UserError(`-t ${safeText(raw)}: no engine named "${safeText(named)}"`, {
        hint: `The engines of this run: ${engines.map((e) => e.name).join(', ')}.`,
      });
    return { engine, target: await engine.runtime.resolve(ref) };
  }
  if (engines.length === 1)
    return { engine: engines[0], target: await engines[0].runtime.resolve(ref) };
  const found: SelectedTarget[] = [];
  for (const engine of engines) {
    try {
      found.push({ engine, target: await engine.runtime.resolve(ref) });
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
    }
  }
  if (found.length === 1) return found[0];
  throw new UserError(
    found.length
      ? `-t ${safeText(ref)} names a container on ${found.length} engines (${found.map((f) => f.engine.name).join(', ')})`
      : `No container named "${safeText(ref)}" (or with an id starting with it) on any engine of this run`,
    { hint: 'Write -t ENGINE/NAME to say which engine.' },
  );
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
