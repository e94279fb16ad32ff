import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { Engine } from '../docker/connection.js';
import { inspectContainer } from '../docker/inspect.js';
import type { Target } from '../docker/target.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { ManifestEntry } from '../evidence/types.js';
import type { ActionContext } from './action.js';
import { now, type EventBus } from './events.js';

/** Builds the context one step runs with; collects the artifacts it wrote for the custody record. */
export function makeContext(opts: {
  engine: Engine;
  target: Target;
  store: CaseStore;
  stepId: string;
  action: string;
  signal: AbortSignal;
  bus: EventBus;
}): { ctx: ActionContext; written: ManifestEntry[]; warnings: string[] } {
  const { bus, stepId, store, action } = opts;
  const written: ManifestEntry[] = [];
  const warnings: string[] = [];
  let lastProgress = 0;
  const added = (e: ManifestEntry): ManifestEntry => {
    written.push(e);
    bus.emit({ type: 'artifact:added', time: now(), stepId, path: e.path, sha256: e.sha256, bytes: e.bytes, mediaType: e.mediaType, complete: e.complete });
    return e;
  };
  const progress: ActionContext['progress'] = (p) => {
    const t = Date.now();
    // Throttle to ~10 events a second, but always pass the final one.
    if (t - lastProgress < 100 && !(p.totalBytes !== undefined && p.bytes === p.totalBytes) && !p.message) return;
    lastProgress = t;
    bus.emit({ type: 'step:progress', time: now(), stepId, ...p });
  };
  const meta = (m: { mediaType: string; source: string }) => ({ ...m, action, step: stepId });
  const onBytes = (n: number): void => progress({ bytes: n });
  let inspected: Promise<Docker.ContainerInspectInfo> | undefined;
  const ctx: ActionContext = {
    docker: opts.engine.docker,
    engine: opts.engine.info,
    target: opts.target,
    inspect: () => (inspected ??= inspectContainer(opts.engine.docker, opts.target.id, opts.target.name)),
    case: store,
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
    writeArtifact: async (path, data: Readable | string | Buffer, m) => added(await store.writeArtifact(path, data, meta(m), onBytes)),
    writeJson: async (path, value, source) =>
      added(await store.writeArtifact(path, `${JSON.stringify(value, null, 2)}\n`, meta({ mediaType: 'application/json', source }))),
  };
  return { ctx, written, warnings };
}
