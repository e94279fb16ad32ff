import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { CirtError, errorMessage } from '../errors.js';
import { RuntimeError, type RuntimeErrorKind } from '../runtime/errors.js';
import type {
  Capability,
  ContainerFacts,
  ContainerRef,
  ContainerRuntime,
  EventHistory,
  HelperOptions,
  HelperResult,
  ImageFacts,
  IsolationPlan,
  IsolationToUndo,
  Limits,
  LogQuery,
  LogStream,
  RestartPolicy,
  QuarantineNetwork,
  RestoreOutcome,
  RuntimeInfo,
  Sourced,
  Target,
} from '../runtime/types.js';
import { CAPABILITIES } from '../runtime/types.js';
import type { ImageNode } from '../runtime/filters.js';
import { archiveStream, changesStream, exportStream, isDirStat, statPath } from './archive.js';
import { FrameDemuxer, frameRouter } from './demux.js';
import { engineMessage, engineStatus } from './errors.js';
import { readNetworkEvents, appendLines } from './events.js';
import { factsOf, summaryOf } from './facts.js';
import { helperName, runNamespaceHelper } from './helper.js';
import { inspectContainer } from './inspect.js';
import { planLimits, restoreLimits } from './limits.js';
import {
  endpointRecords,
  ensureQuarantineNetwork,
  isQuarantine,
  resolveEndpointIds,
} from './networks.js';
import { QUARANTINE_LABEL } from '../runtime/quarantine.js';
import { engineStream } from './raw.js';
import { restoreNetworks } from './restore-networks.js';
import { findByAlertId, findByExactName, resolveTarget } from './target.js';

/** Docker can do everything the interface names; only reading /proc needs the engine to run here. */
const ALL: Capability[] = CAPABILITIES.filter((c) => c !== 'host-proc');

/**
 * A dockerode error as a typed runtime error. The message stays dockerode's (it is what steps and
 * custody have always shown); `detail` is the engine's own JSON message. Our own errors and aborts
 * pass through unchanged.
 */
export function toRuntimeError(err: unknown): unknown {
  if (err instanceof CirtError || (err as Error)?.name === 'AbortError') return err;
  const status = engineStatus(err);
  // A 404 about the container itself (not a path in it, not an image) means it is gone.
  const gone = status === 404 && /no such container/i.test(engineMessage(err));
  const kind: RuntimeErrorKind =
    status === undefined
      ? 'unreachable'
      : gone
        ? 'gone'
        : status === 404
          ? 'not-found'
          : status === 409
            ? 'conflict'
            : 'refused';
  return new RuntimeError(kind, errorMessage(err), {
    detail: engineMessage(err),
    status,
    cause: err,
  });
}

/** Runs an engine request; its failure becomes a RuntimeError. */
async function call<T>(p: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof p === 'function' ? p() : p);
  } catch (err) {
    throw toRuntimeError(err);
  }
}

/** The Docker Engine as a container runtime: the one place dockerode is used. */
export class DockerRuntime implements ContainerRuntime {
  readonly capabilities: ReadonlySet<Capability>;

  constructor(
    private readonly docker: Docker,
    readonly info: RuntimeInfo,
  ) {
    // On the engine's host (a unix socket) the containers' processes are in our /proc.
    this.capabilities = new Set<Capability>(info.local ? [...ALL, 'host-proc'] : ALL);
  }

  async resolve(ref: string) {
    return this.named(await call(() => resolveTarget(this.docker, ref)));
  }

  async findById(id: string) {
    return this.named(await call(() => findByAlertId(this.docker, id)));
  }

  async findByName(name: string) {
    return this.named(await call(() => findByExactName(this.docker, name)));
  }

  /** Every target says which engine it is on (several engines may have a container of one name). */
  private named<T extends Target | undefined>(t: T): T {
    return t && this.info.name ? { ...t, engine: this.info.name } : t;
  }

  async list(opts: { all: boolean }) {
    return (await call(this.docker.listContainers({ all: opts.all }))).map(summaryOf);
  }

  async images(): Promise<ImageNode[]> {
    // all: intermediate images too, or a descendant built by the classic builder loses its parent chain.
    const list = await call(this.docker.listImages({ all: true }));
    return list.map((i) => ({
      id: i.Id,
      parent: i.ParentId ?? '',
      tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
      digests: (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>'),
    }));
  }

  async writableLayerBytes(ref: ContainerRef): Promise<number | undefined> {
    // The typings do not list `size`; the engine's query parameter is what matters.
    const i = await call(
      this.docker.getContainer(ref.id).inspect({ size: true } as { abortSignal?: AbortSignal }),
    );
    const n = (i as { SizeRw?: unknown }).SizeRw;
    return typeof n === 'number' ? n : undefined;
  }

  async inspect(ref: ContainerRef): Promise<ContainerFacts> {
    return factsOf(await call(() => inspectContainer(this.docker, ref.id, ref.name)));
  }

  async logs(
    ref: ContainerRef & { tty: boolean },
    q: LogQuery,
    signal?: AbortSignal,
  ): Promise<LogStream> {
    const query = {
      stdout: true,
      stderr: true,
      timestamps: true,
      follow: false,
      tail: q.tail,
      ...(q.since ? { since: q.since } : {}),
      ...(q.until ? { until: q.until } : {}),
    };
    const source = `GET /containers/${ref.id}/logs?stdout=1&stderr=1&timestamps=1&tail=${q.tail}${q.since ? `&since=${q.since}` : ''}${q.until ? `&until=${q.until}` : ''}`;
    const stream = await call(
      engineStream(this.docker, `/containers/${ref.id}/logs`, query, signal),
    );
    return {
      tty: ref.tty,
      source,
      stream,
      stdoutSource: `${source} (stream 1)`,
      stderrSource: `${source} (stream 2)`,
      // Without a TTY the engine frames each piece with its stream number.
      split: (targets) => pipeline(stream, new FrameDemuxer(), frameRouter(targets)),
    };
  }

  async changes(ref: ContainerRef, signal?: AbortSignal): Promise<Sourced> {
    return {
      stream: await call(changesStream(this.docker, ref.id, signal)),
      source: `GET /containers/${ref.id}/changes`,
    };
  }

  archive(ref: ContainerRef, path: Buffer, signal?: AbortSignal): Promise<Readable> {
    return call(archiveStream(this.docker, ref.id, path, signal));
  }

  /** What fs/diff.tar's requests are, for its provenance. */
  archiveSource(ref: ContainerRef): string {
    return `GET /containers/${ref.id}/archive`;
  }

  async isDirectory(
    ref: ContainerRef,
    path: Buffer,
    signal?: AbortSignal,
  ): Promise<boolean | null> {
    const st = await call(statPath(this.docker, ref.id, path, signal));
    return st ? isDirStat(st) : null;
  }

  async export(ref: ContainerRef, signal?: AbortSignal): Promise<Sourced> {
    return {
      stream: await call(exportStream(this.docker, ref.id, signal)),
      source: `GET /containers/${ref.id}/export`,
    };
  }

  async top(ref: ContainerRef, psArgs?: string) {
    const c = this.docker.getContainer(ref.id);
    const data = await call(psArgs ? c.top({ ps_args: psArgs }) : c.top());
    const processes = ((data as { Processes?: unknown[] }).Processes ?? []).length;
    return { data, processes, source: `GET /containers/${ref.id}/top?ps_args=${psArgs ?? '-ef'}` };
  }

  async events(
    ref: ContainerRef,
    range: { since: string; until: string },
    signal?: AbortSignal,
  ): Promise<EventHistory> {
    const { since, until } = range;
    const filters = { container: [ref.id] };
    const source = `GET /events?since=${since}&until=${until}&filters=${JSON.stringify(filters)}`;
    const res = await call(engineStream(this.docker, '/events', { since, until, filters }, signal));
    // Network connect/disconnect events have the network as their actor, so the container filter
    // misses them (engine 20.10); they name the container in their attributes.
    const netFilters = { type: ['network'] };
    const problems: string[] = [];
    const network = await readNetworkEvents(
      this.docker,
      ref.id,
      { since, until, filters: netFilters },
      signal,
    ).catch((err: unknown) => {
      problems.push(`network events could not be read: ${engineMessage(err)}`);
      return [] as string[];
    });
    return {
      stream: appendLines(res, network),
      source: `${source}, then GET /events?since=${since}&until=${until}&filters=${JSON.stringify(netFilters)} (only those naming the container)`,
      extra: network.length,
      problems,
    };
  }

  async eventStream(o: { since?: string }, signal?: AbortSignal): Promise<Sourced> {
    const query = o.since ? { since: o.since } : {};
    const stream = await call(engineStream(this.docker, '/events', query, signal));
    return { stream, source: `GET /events${o.since ? `?since=${o.since}` : ''}` };
  }

  activity(): Promise<Readable> {
    return call(
      async () =>
        (await this.docker.getEvents({
          filters: { type: ['container', 'network'] },
        })) as unknown as Readable,
    );
  }

  async image(id: string): Promise<ImageFacts> {
    const img = await call(this.docker.getImage(id).inspect());
    return {
      id: img.Id,
      // A registry digest names the image beyond this engine; a locally built image only has its id.
      digest: img.RepoDigests?.[0] ?? img.Id,
      layers: img.RootFS?.Layers?.length ?? 0,
      size: img.Size,
      parent: img.Parent,
      raw: img,
      source: `GET /images/${id}/json`,
    };
  }

  async imageHistory(id: string) {
    return {
      raw: await call(this.docker.getImage(id).history()),
      source: `GET /images/${id}/history`,
    };
  }

  async imageExists(ref: string): Promise<boolean> {
    try {
      await call(this.docker.getImage(ref).inspect());
      return true;
    } catch (err) {
      if (err instanceof RuntimeError && err.kind === 'not-found') return false;
      throw err;
    }
  }

  async commit(ref: ContainerRef, o: { repo: string; tag: string; comment: string }) {
    const res = (await call(
      this.docker
        .getContainer(ref.id)
        .commit({ repo: o.repo, tag: o.tag, pause: true, comment: o.comment, author: 'cirt' }),
    )) as { Id: string };
    return {
      imageId: res.Id,
      source: `POST /commit?container=${ref.id}&repo=${o.repo}&tag=${o.tag}&pause=1`,
    };
  }

  async pause(ref: ContainerRef) {
    await call(this.docker.getContainer(ref.id).pause());
  }

  async unpause(ref: ContainerRef) {
    await call(this.docker.getContainer(ref.id).unpause());
  }

  async stop(ref: ContainerRef, timeoutSeconds: number) {
    await call(this.docker.getContainer(ref.id).stop({ t: timeoutSeconds }));
  }

  async kill(ref: ContainerRef, signal: string) {
    await call(this.docker.getContainer(ref.id).kill({ signal }));
  }

  /** Quarantine networks being looked up or made, by name (see prepareIsolation). */
  private readonly ensuring = new Map<string, Promise<QuarantineNetwork>>();

  async prepareIsolation(facts: ContainerFacts, network: string): Promise<IsolationPlan> {
    // Several isolations at once in one process (a multi-target run) would each create the
    // network, and the engine allows two networks of one name: one at a time per name.
    const before = this.ensuring.get(network);
    const mine = (before ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => call(() => ensureQuarantineNetwork(this.docker, network)));
    this.ensuring.set(network, mine);
    const quarantine = await mine;
    return {
      quarantine,
      endpoints: await call(() => resolveEndpointIds(this.docker, facts.networks)),
    };
  }

  async isolate(
    facts: ContainerFacts,
    plan: IsolationPlan,
    alias: string,
    progress: (message: string) => void,
  ) {
    const q = plan.quarantine;
    const failures: string[] = [];
    // Keep going after a failure: every network we do get off is one less way out.
    for (const e of plan.endpoints.filter((x) => x.id !== q.id)) {
      try {
        await this.docker
          .getNetwork(e.id || e.name)
          .disconnect({ Container: facts.id, Force: true });
      } catch (err) {
        failures.push(`${e.name}: ${engineMessage(err)}`);
      }
      progress(`disconnected from ${e.name}`);
    }
    if (!plan.endpoints.some((x) => x.id === q.id)) {
      try {
        await this.docker
          .getNetwork(q.id)
          .connect({ Container: facts.id, EndpointConfig: { Aliases: [alias] } });
      } catch (err) {
        failures.push(`connect ${q.name}: ${engineMessage(err)}`);
      }
    }
    const left = endpointRecords(await call(() => inspectContainer(this.docker, facts.id))).map(
      (e) => e.name,
    );
    return { failures, stillOn: left.filter((n) => n !== q.name) };
  }

  restoreNetworks(
    facts: ContainerFacts,
    caseId: string,
    records: IsolationToUndo[],
  ): Promise<RestoreOutcome> {
    return call(() => restoreNetworks(this.docker, facts, caseId, records));
  }

  async quarantineNetworks() {
    const nets = await call(
      this.docker.listNetworks({ filters: { label: [`${QUARANTINE_LABEL}=1`] } }),
    );
    return nets.filter(isQuarantine).map((n) => ({ id: n.Id, name: n.Name }));
  }

  async aliasesOn(ref: ContainerRef, network: string): Promise<string[] | null> {
    try {
      const nets = (await call(this.docker.getContainer(ref.id).inspect())).NetworkSettings
        .Networks;
      return nets[network]?.Aliases ?? [];
    } catch (err) {
      // Removed between list and inspect: nothing to say about it.
      if (err instanceof RuntimeError && err.kind === 'not-found') return null;
      throw err;
    }
  }

  planLimits(facts: ContainerFacts, want: { cpus?: number; memory?: number; pids?: number }) {
    return planLimits(facts, want);
  }

  async setLimits(ref: ContainerRef, after: Partial<Limits>) {
    await call(this.docker.getContainer(ref.id).update(after));
  }

  restoreLimits(
    facts: ContainerFacts,
    original: Limits,
    touched: (keyof Limits)[],
  ): Promise<RestoreOutcome> {
    return call(() => restoreLimits(this.docker, facts, original, touched));
  }

  async setRestartPolicy(ref: ContainerRef, policy: RestartPolicy) {
    await call(this.docker.getContainer(ref.id).update({ RestartPolicy: policy }));
  }

  runHelper(o: HelperOptions): Promise<HelperResult> {
    return call(() =>
      runNamespaceHelper(this.docker, {
        targetId: o.target.id,
        targetName: o.target.name,
        image: o.image,
        script: o.script,
        stdout: o.stdout,
        labels: o.labels,
        signal: o.signal,
        timeoutMs: o.timeoutMs,
        name: o.name,
        capAdd: o.capAdd,
      }),
    );
  }

  helperName(ref: ContainerRef): string {
    return helperName(ref.id);
  }

  close(): void {
    // dockerode keeps no connection open between requests: nothing to release.
  }
}
