import type { Readable } from 'node:stream';
import type { CaseStore } from '../evidence/case-store.js';
import { sealCase } from '../evidence/seal.js';
import type { ManifestEntry } from '../evidence/types.js';
import { thisHost, type HostView } from '../host/view.js';
import type { ContainerFacts, ContainerRuntime, Target } from '../runtime/types.js';
import type { ActionContext, CaseHandle } from './action.js';
import { now, type EventBus } from './events.js';

/** Builds the context one step runs with; collects the artifacts it wrote for the custody record. */
export function makeContext(opts: {
  runtime: ContainerRuntime;
  target: Target;
  store: CaseStore;
  stepId: string;
  action: string;
  signal: AbortSignal;
  bus: EventBus;
  /** This host's /proc; defaults to the real one when the runtime says its processes are visible here. */
  host?: HostView | null;
  /** The flight recorder's journal folder (see ActionContext.journal). */
  journal?: string;
}): { ctx: ActionContext; written: ManifestEntry[]; warnings: string[] } {
  const { bus, stepId, store, action, runtime } = opts;
  const written: ManifestEntry[] = [];
  const warnings: string[] = [];
  let lastProgress = 0;
  const added = (e: ManifestEntry): ManifestEntry => {
    written.push(e);
    bus.emit({
      type: 'artifact:added',
      time: now(),
      stepId,
      path: e.path,
      sha256: e.sha256,
      bytes: e.bytes,
      mediaType: e.mediaType,
      complete: e.complete,
    });
    return e;
  };
  const progress: ActionContext['progress'] = (p) => {
    const t = Date.now();
    // Throttle to ~10 events a second, but always pass the final one.
    if (
      t - lastProgress < 100 &&
      !(p.totalBytes !== undefined && p.bytes === p.totalBytes) &&
      !p.message
    )
      return;
    lastProgress = t;
    bus.emit({ type: 'step:progress', time: now(), stepId, ...p });
  };
  const meta = (m: { mediaType: string; source: string }) => ({ ...m, action, step: stepId });
  const onBytes = (n: number): void => progress({ bytes: n });
  const writeArtifact: ActionContext['writeArtifact'] = async (
    path,
    data: Readable | string | Buffer,
    m,
  ) => added(await store.writeArtifact(path, data, meta(m), onBytes));
  const handle: CaseHandle = {
    get id() {
      return store.id;
    },
    get root() {
      return store.root;
    },
    get sealed() {
      return store.sealed;
    },
    get signKeyPath() {
      return store.signKeyPath;
    },
    noteGap: (reason) => store.noteIncomplete(stepId, reason),
    noteLimitation: (reason) => store.noteLimitation(stepId, reason),
    recordImageDigest: (digest) =>
      store.updateInfo({ target: { ...store.caseInfo.target, imageDigest: digest } }),
    seal: (o) =>
      sealCase({
        ...o,
        store,
        step: stepId,
        writeReport: (rel, text, m) => writeArtifact(rel, text, m),
        duringRun: true,
      }),
  };
  let facts: Promise<ContainerFacts> | undefined;
  const ctx: ActionContext = {
    runtime,
    target: opts.target,
    facts: () => (facts ??= runtime.inspect(opts.target)),
    host:
      opts.host !== undefined ? opts.host : runtime.capabilities.has('host-proc') ? thisHost : null,
    case: handle,
    ...(opts.journal ? { journal: opts.journal } : {}),
    stepId,
    action,
    signal: opts.signal,
    progress,
    warn: (message) => {
      warnings.push(message);
      bus.emit({ type: 'step:warning', time: now(), stepId, message });
    },
    artifact: async (path, { progress: wanted, ...m }) => {
      const h = await store.artifact(path, meta(m), wanted === false ? undefined : onBytes);
      return { ...h, done: async (failure?: Error) => added(await h.done(failure)) };
    },
    writeArtifact,
    writeJson: async (path, value, source) =>
      added(
        await store.writeArtifact(
          path,
          `${JSON.stringify(value, null, 2)}\n`,
          meta({ mediaType: 'application/json', source }),
        ),
      ),
  };
  return { ctx, written, warnings };
}
