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
  egress: 'containment/restrict-egress.json',
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

/** containment/restrict-egress.json: the nftables table the case added to the container's namespace. */
export interface EgressRecord {
  schema: 'cirt.containment.restrict-egress/1';
  container: ContainerRef;
  caseId: string;
  /** `cirt-egress-<case>`: release deletes this table and nothing else. */
  table: string;
  family: 'inet';
  /** The host pid the namespace was entered through, and the namespace (`net:[…]`). */
  pid: number;
  netns: string;
  /** How the namespace was entered: from the engine's host, or through a helper container (remote). */
  via: 'nsenter' | 'helper';
  helperImage?: string;
  state: string;
  rulesetBefore: { path: string; sha256: string };
  rulesetApplied: { path: string; sha256: string };
  plan: unknown;
  appliedAt: string;
}

/** What an egress table's name may be: release passes it to nft. */
export const EGRESS_TABLE = /^cirt-egress-[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

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
export const isEgressRecord = (d: unknown): d is EgressRecord =>
  obj(d) &&
  hasContainer(d) &&
  typeof d.table === 'string' &&
  EGRESS_TABLE.test(d.table) &&
  typeof d.netns === 'string';
export const isLimitRecord = (d: unknown): d is LimitRecord =>
  obj(d) && hasContainer(d) && obj(d.before) && obj(d.after);
