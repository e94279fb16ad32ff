import {
  connectNamedRuntime,
  endpointAddress,
  endpointDisplay,
  envEndpoint,
} from '../docker/connection.js';
import {
  DEFAULT_CONTEXT,
  currentContext,
  dockerConfigDir,
  findContext,
  listContexts,
  type DockerEndpoint,
} from '../docker/contexts.js';
import { UserError } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';
import { loadEngineConfig, type EngineConfig } from './engine-config.js';

/**
 * Which engines a command talks to. The docker CLI's rules for one engine, cirt's for several:
 * `--host` and `--context` together are refused (as the CLI does); else `--host` > `--context` >
 * `DOCKER_HOST` > `DOCKER_CONTEXT` > `currentContext` of the CLI's config.json > the local socket.
 * `engines` (`all` or `a,b`) picks several by name instead and goes with neither of the two flags.
 */
export interface EngineSelection {
  /** `all` (the default engine, every docker context, every engine of cirt's config) or `a,b`. */
  engines?: string;
  /** `--context NAME`: a docker context or an engine of cirt's config. */
  context?: string;
  /** `--host ADDRESS`. */
  host?: string;
  /** `--config FILE` (else CIRT_CONFIG, else ~/.config/cirt/config.yaml). */
  config?: string;
}

/** An engine picked by name, not contacted yet. */
export interface EngineRef {
  /** What it is called everywhere cirt names it: case.json, targets, timeline rows, `ps`. */
  name: string;
  endpoint: DockerEndpoint;
  /** Where the name came from, for messages (`--host`, `docker context (…/meta.json)`, `config.yaml:3`). */
  from: string;
  /** Other names of the same endpoint, folded into this one by `all` (one engine, listed once). */
  aliases: string[];
}

/** An engine connected: the runtime cirt drives, and how it was reached. */
export interface ConnectedEngine {
  name: string;
  runtime: ContainerRuntime;
  /** True when the engine runs on this host (its containers' processes are in our /proc). */
  local: boolean;
  /** The address as shown to the user (`unix:///…`, `https://host:port`). */
  endpoint: string;
}

/** Where resolving reads the environment and relative paths from. */
export interface EngineEnv {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/**
 * The engines a selection names, in order (the default engine first, then docker contexts by name,
 * then the config's engines in file order). Reads files only: nothing is contacted. A name that
 * names nothing, a broken context or config, or conflicting flags is a UserError (exit 2).
 * Async so that a resolver that must ask something (ssh, a cluster) fits the same call.
 */
export async function resolveEngines(sel: EngineSelection, e: EngineEnv): Promise<EngineRef[]> {
  if (sel.engines !== undefined) {
    if (sel.host !== undefined || sel.context !== undefined)
      throw new UserError(
        '--engines picks engines by name: it goes with neither --host nor --context',
        {
          hint: 'Use --engines all|a,b alone, or one engine with --host or --context.',
        },
      );
    return pickMany(sel.engines, sel.config, e);
  }
  if (sel.host !== undefined && sel.context !== undefined)
    throw new UserError('Conflicting options: either specify --host or --context, not both', {
      hint: 'As with the docker CLI: --host ADDRESS or --context NAME.',
    });
  const names = new Names(sel.config, e);
  // An explicit config is read even when no name needs it: a broken file is said at once.
  if (sel.config !== undefined) names.config();
  if (sel.host !== undefined) return [defaultRef(sel.host, e, '--host')];
  if (sel.context !== undefined) return [names.lookup(sel.context, '--context')];
  if (e.env.DOCKER_HOST !== undefined) return [defaultRef(undefined, e, 'DOCKER_HOST')];
  const fromEnv = e.env.DOCKER_CONTEXT;
  if (fromEnv !== undefined && fromEnv !== '') return [names.lookup(fromEnv, 'DOCKER_CONTEXT')];
  const cur = currentContext(e.env);
  if (cur !== undefined) {
    return [
      names.lookup(
        cur,
        `currentContext of ${safeText(dockerConfigDir(e.env))}/config.json`,
        'Run `docker context use default`, fix the config file, or pass --host.',
      ),
    ];
  }
  return [defaultRef(undefined, e, 'the local socket')];
}

/** The one engine of a selection that names one (`engines` unset). */
export async function resolveEngine(sel: EngineSelection, e: EngineEnv): Promise<EngineRef> {
  const refs = await resolveEngines({ ...sel, engines: undefined }, e);
  return refs[0];
}

/**
 * Connects to an engine and pings it; unreachable is a UserError naming the engine and address.
 * TLS files are read here, so a missing one fails this engine only.
 */
export async function connectEngine(ref: EngineRef): Promise<ConnectedEngine> {
  const addr = endpointAddress(ref.endpoint, { what: `engine "${safeText(ref.name)}"` });
  const runtime = await connectNamedRuntime(addr, ref.name);
  return { name: ref.name, runtime, local: addr.local, endpoint: addr.display };
}

function defaultRef(host: string | undefined, e: EngineEnv, from: string): EngineRef {
  return { name: DEFAULT_CONTEXT, endpoint: envEndpoint(host, e.env), from, aliases: [] };
}

/** The names there are: `default`, cirt's config (read once, lazily), the docker CLI's contexts. */
class Names {
  private cfg?: EngineConfig;

  constructor(
    private readonly file: string | undefined,
    private readonly e: EngineEnv,
  ) {}

  config(): EngineConfig {
    return (this.cfg ??= loadEngineConfig(this.file, this.e.env, this.e.cwd));
  }

  /** A name: `default`, else an engine of cirt's config (it wins over a context of the same name), else a context. */
  lookup(name: string, from: string, hint?: string): EngineRef {
    if (name === DEFAULT_CONTEXT) return defaultRef(undefined, this.e, from);
    const c = this.config().engines.find((x) => x.name === name);
    if (c)
      return {
        name,
        endpoint: { host: c.host, ...(c.tls ? { tls: c.tls } : {}) },
        from: c.at,
        aliases: [],
      };
    const ctx = findContext(this.e.env, name);
    if (ctx)
      return {
        name,
        endpoint: { host: ctx.host, ...(ctx.tls ? { tls: ctx.tls } : {}) },
        from: `docker context (${ctx.file})`,
        aliases: [],
      };
    const known = this.all().map((r) => r.name);
    throw new UserError(`No engine named "${safeText(name)}" (from ${from})`, {
      hint:
        hint ??
        `Known engines: ${known.map(safeText).join(', ')} (docker contexts in ${safeText(dockerConfigDir(this.e.env))}/contexts, engines of cirt's config${this.cfg?.file ? ` ${safeText(this.cfg.file)}` : ''}).`,
    });
  }

  /** Every engine, one entry per endpoint. */
  all(): EngineRef[] {
    const refs: EngineRef[] = [defaultRef(undefined, this.e, 'DOCKER_HOST or the local socket')];
    const cfg = this.config().engines;
    const cfgNames = new Set(cfg.map((c) => c.name));
    for (const ctx of listContexts(this.e.env)) {
      if (ctx.name === DEFAULT_CONTEXT || cfgNames.has(ctx.name)) continue;
      refs.push({
        name: ctx.name,
        endpoint: { host: ctx.host, ...(ctx.tls ? { tls: ctx.tls } : {}) },
        from: `docker context (${ctx.file})`,
        aliases: [],
      });
    }
    for (const c of cfg)
      refs.push({
        name: c.name,
        endpoint: { host: c.host, ...(c.tls ? { tls: c.tls } : {}) },
        from: c.at,
        aliases: [],
      });
    return foldSameEndpoint(refs);
  }
}

/** `all` or `a,b`: names resolved, each once; one engine reached under two names is listed once. */
function pickMany(spec: string, file: string | undefined, e: EngineEnv): EngineRef[] {
  const names = new Names(file, e);
  const wanted = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!wanted.length)
    throw new UserError('--engines names no engine', {
      hint: 'Use --engines all, or --engines a,b.',
    });
  if (wanted.includes('all')) {
    if (wanted.length > 1)
      throw new UserError(`--engines "${safeText(spec)}" mixes "all" with names`, {
        hint: 'Use --engines all, or list the names.',
      });
    return names.all();
  }
  const refs: EngineRef[] = [];
  for (const n of new Set(wanted)) refs.push(names.lookup(n, '--engines'));
  return foldSameEndpoint(refs);
}

/** Two names of one endpoint would list (and contain) each container twice: keep the first name. */
function foldSameEndpoint(refs: EngineRef[]): EngineRef[] {
  const byAddr = new Map<string, EngineRef>();
  for (const r of refs) {
    const key = endpointDisplay(r.endpoint);
    const first = byAddr.get(key);
    if (first) first.aliases.push(r.name);
    else byAddr.set(key, r);
  }
  return [...byAddr.values()];
}
