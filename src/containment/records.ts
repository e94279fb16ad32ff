import type { EndpointRecord } from '../docker/networks.js';

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
} as const;

export interface ContainerRef {
  id: string;
  name: string;
}

/** containment/network-isolate.json */
export interface IsolationRecord {
  schema: 'cirt.containment.network-isolate/1';
  container: ContainerRef;
  caseId: string;
  quarantineNetwork: { name: string; id: string; created: boolean; alias: string };
  /** Every network the container was on (except the quarantine), as inspect showed it just before. */
  before: EndpointRecord[];
  /** Published ports as they were (host ports given by the engine may differ after release). */
  ports: Record<string, { HostIp: string; HostPort: string }[] | null>;
  state: string;
  disconnectedAt: string;
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
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

/** The resource fields contain:limit touches, as HostConfig names them. */
export interface Limits {
  NanoCpus: number;
  CpuQuota: number;
  CpuPeriod: number;
  Memory: number;
  MemorySwap: number;
  /** null/0 means unlimited. */
  PidsLimit: number | null;
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

export function containerRef(info: { Id: string; Name: string }): ContainerRef {
  return { id: info.Id, name: info.Name.replace(/^\//, '') };
}
