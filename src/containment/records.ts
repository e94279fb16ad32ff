import type {
  ContainerRef,
  EndpointRecord,
  Limits,
  PortBindings,
  RestartPolicy,
} from '../runtime/types.js';

export type { ContainerRef, Limits, RestartPolicy };

/**
 * What contain:* actions write under `containment/` before they change anything, so
 * `cirt release` can undo exactly what the case did. These files are evidence too (hashed,
 * in the manifest); release only reads them.
 */
export const RECORD_PATHS = {
  isolate: 'containment/network-isolate.json',
  restartPolicy: 'containment/restart-policy.json',
  limit: 'containment/limit.json',
  stop: 'containment/stop.json',
  kill: 'containment/kill.json',
  killProcess: 'containment/kill-process.json',
} as const;

/** containment/network-isolate.json */
export interface IsolationRecord {
  schema: 'cirt.containment.network-isolate/1';
  container: ContainerRef;
  caseId: string;
  quarantineNetwork: { name: string; id: string; created: boolean; alias: string };
  /** Every network the container was on (except the quarantine), as inspect showed it just before. */
  before: EndpointRecord[];
  /** Published ports as they were (host ports given by the engine may differ after release). */
  ports: PortBindings;
  state: string;
  disconnectedAt: string;
}

/** containment/restart-policy.json */
export interface RestartPolicyRecord {
  schema: 'cirt.containment.restart-policy/1';
  container: ContainerRef;
  caseId: string;
  before: RestartPolicy;
  after: RestartPolicy;
  changedAt: string;
}

/** containment/limit.json */
export interface LimitRecord {
  schema: 'cirt.containment.limit/1';
  container: ContainerRef;
  caseId: string;
  before: Limits;
  /** Only the fields that were changed. */
  after: Partial<Limits>;
  changedAt: string;
}

/** containment/stop.json and kill.json: not undone by release (a stopped container stays stopped). */
export interface StopRecord {
  schema: 'cirt.containment.stop/1';
  container: ContainerRef;
  caseId: string;
  how: { stop: { timeout: number } } | { kill: { signal: string } };
  stateBefore: { status: string; pid: number; startedAt: string; restartPolicy: RestartPolicy };
  at: string;
}

export function containerRef(facts: ContainerRef): ContainerRef {
  return { id: facts.id, name: facts.name };
}

const obj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const hasContainer = (d: Record<string, unknown>): boolean =>
  obj(d.container) && typeof d.container.id === 'string' && typeof d.container.name === 'string';

/** Just what release reads of each record (its undo code trusts these fields). */
export const isIsolationRecord = (d: unknown): d is IsolationRecord =>
  obj(d) &&
  hasContainer(d) &&
  Array.isArray(d.before) &&
  d.before.every(obj) &&
  obj(d.quarantineNetwork) &&
  typeof d.quarantineNetwork.name === 'string' &&
  (d.ports === undefined || d.ports === null || obj(d.ports));
export const isRestartPolicyRecord = (d: unknown): d is RestartPolicyRecord =>
  obj(d) &&
  hasContainer(d) &&
  obj(d.before) &&
  typeof d.before.Name === 'string' &&
  typeof d.before.MaximumRetryCount === 'number';
export const isLimitRecord = (d: unknown): d is LimitRecord =>
  obj(d) && hasContainer(d) && obj(d.before) && obj(d.after);
