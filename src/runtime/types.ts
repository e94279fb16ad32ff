import type { Readable, Writable } from 'node:stream';
import type { ImageNode } from './filters.js';

/**
 * The container-runtime interface: everything cirt asks of an engine, in cirt's own terms. Actions,
 * containment and the application layer see only this; `src/docker/` implements it (and is the only
 * code that knows dockerode or names an endpoint). Every stream of evidence comes with `source`,
 * the provenance label the manifest records for it.
 */

/** Names a container: enough to address it and to say which one in a message. */
export interface ContainerRef {
  id: string;
  name: string;
}

/** The container a run is about, as it was when the run started. */
export interface Target extends ContainerRef {
  /** The name of the engine it runs on (RuntimeInfo.name); set by every runtime's resolve. */
  engine?: string;
  image: string;
  imageId: string;
  state: string;
  running: boolean;
  paused: boolean;
  pid: number;
}

/** One network endpoint as recorded before isolation: enough to reconnect it exactly. */
export interface EndpointRecord {
  name: string;
  id: string;
  aliases: string[];
  ipv4: string;
  ipv6: string;
  mac: string;
  gateway: string;
  /** The endpoint's static addresses as configured (null when the engine assigned them). */
  ipamConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null;
  links: string[];
}

/** Published ports: `"80/tcp"` → host bindings (null when exposed but not published). */
export type PortBindings = Record<string, { HostIp: string; HostPort: string }[] | null>;

/** The resource limits contain:limit may change (field names as the containment records keep them). */
export interface Limits {
  NanoCpus: number;
  CpuQuota: number;
  CpuPeriod: number;
  Memory: number;
  MemorySwap: number;
  /** null/0 means unlimited. */
  PidsLimit: number | null;
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount: number;
}

export interface MountFact {
  /** `volume`, `bind`, `tmpfs`… as the runtime calls it. */
  type: string;
  /** A volume's name. */
  name?: string;
  driver?: string;
  mode?: string;
  propagation?: string;
  source: string;
  destination: string;
  rw: boolean;
}

/** How the runtime set up the container's mounts, beyond the list (for collect:mounts). */
export interface MountSetup {
  /** Paths the runtime hides (an empty read-only tmpfs or /dev/null over them). */
  maskedPaths: string[];
  /** Mount points declared as tmpfs. */
  tmpfs: string[];
  /** Files the runtime writes for the container and binds in: mount point → host path. */
  runtimeFiles: Record<string, string>;
  /** The IPC namespace mode (`private`, `shareable`, `host`, `container:<id>`, `none`). */
  ipcMode: string;
}

/** An inspected container, normalised; `raw` is the inspect as the engine sent it, for evidence. */
export interface ContainerFacts extends ContainerRef {
  /** The image as configured (a name, maybe a tag). */
  image: string;
  imageId: string;
  /** RFC 3339 with up to nanoseconds. */
  created: string;
  state: {
    status: string;
    running: boolean;
    paused: boolean;
    dead: boolean;
    pid: number;
    exitCode: number;
    startedAt: string;
  };
  tty: boolean;
  /** The network mode as configured (`bridge`, `none`, `host`, `container:<id>`, a network name). */
  networkMode: string;
  /** Why the runtime cannot take the container off its networks (it shares another namespace), if so. */
  sharedNetwork?: string;
  /** Every network endpoint, in a stable order. */
  networks: EndpointRecord[];
  ports: PortBindings;
  limits: Limits;
  restartPolicy: RestartPolicy;
  mounts: MountFact[];
  mountSetup: MountSetup;
  log: { driver: string; path?: string };
  raw: unknown;
  /** Provenance of `raw`. */
  source: string;
}

/** A container in a listing (no inspect). */
export interface ContainerSummary extends ContainerRef {
  image: string;
  state: string;
  /** The runtime's own status line ("Up 5 minutes"). */
  status: string;
  created: number;
  command: string;
  /** Endpoints; a stopped container's have an empty network id. */
  networks: { name: string; id: string; ip: string }[];
  ports: string[];
  /** The container's labels (`--filter label=…`). */
  labels?: Record<string, string>;
  /** The image id it runs (`--filter ancestor=…`). */
  imageId?: string;
}

/** A byte stream of evidence and where it came from. */
export interface Sourced<T = Readable> {
  stream: T;
  source: string;
}

/** The container's logs: one raw TTY stream, or stdout and stderr split as they stream. */
export interface LogStream {
  tty: boolean;
  source: string;
  /** The runtime's bytes (framed when not a TTY). */
  stream: Readable;
  /** Provenance of the stdout / stderr parts when split. */
  stdoutSource: string;
  stderrSource: string;
  /** Splits `stream` into the two writables (ends neither); rejects when the stream breaks. */
  split(targets: { stdout: Writable; stderr: Writable }): Promise<void>;
}

export interface LogQuery {
  /** `seconds[.fraction]` (see util/times.ts), or absent. */
  since?: string;
  until?: string;
  tail: string;
}

/** The runtime's event history about one container, as raw JSON lines. */
export interface EventHistory extends Sourced {
  /** Events of other objects (networks) that name the container, appended after the stream. */
  extra: number;
  /** What could not be read (the history is still usable). */
  problems: string[];
}

/** An image, inspected. */
export interface ImageFacts {
  id: string;
  /** A registry digest when there is one, else the id. */
  digest: string;
  layers: number;
  size: number;
  parent: string;
  raw: unknown;
  source: string;
}

export interface QuarantineNetwork {
  id: string;
  name: string;
  created: boolean;
  /** Problems with an existing network that do not make it unsafe (missing label, icc on). */
  warnings: string[];
}

/** What isolating needs to know before anything changes (written into the containment record). */
export interface IsolationPlan {
  quarantine: QuarantineNetwork;
  /** Every endpoint with its network id resolved. */
  endpoints: EndpointRecord[];
}

/** What one containment undo did. */
export interface RestoreOutcome {
  result: 'ok' | 'noop' | 'failed';
  message: string;
  details?: Record<string, unknown>;
  warnings: string[];
}

/** What restoring networks needs of each isolation record. */
export interface IsolationToUndo {
  /** The case that isolated (another case's record, kept in force for this one by its release, may be among them). */
  caseId?: string;
  quarantineNetwork: { id: string; name: string };
  before: EndpointRecord[];
  ports: PortBindings;
}

export interface HelperOptions {
  target: ContainerRef;
  /** Image to run; it needs /bin/sh and whatever the script calls. */
  image: string;
  /** Shell script run as `/bin/sh -c script`. */
  script: string;
  /** Receives the helper's stdout; ended when the helper exits. */
  stdout: Writable;
  labels?: Record<string, string>;
  signal: AbortSignal;
  timeoutMs?: number;
  /** The helper's name (from `helperName`), when the caller must name it in evidence before it runs. */
  name?: string;
  /** Capabilities beyond SYS_PTRACE (NET_ADMIN to change the joined namespace's rules). */
  capAdd?: string[];
}

export interface HelperResult {
  id: string;
  name: string;
  image: string;
  exitCode: number;
  /** The first 4 KiB of its stderr, for error messages. */
  stderr: string;
}

/** What a runtime can do; actions declare what they need of this list. */
export const CAPABILITIES = [
  'inspect',
  'logs',
  'events',
  'top',
  'changes',
  'archive',
  'export',
  'commit',
  'pause',
  'stop',
  'kill',
  'network-isolate',
  'limits',
  'restart-policy',
  'helper',
  /** The target's processes are visible in this host's /proc (the runtime runs here). */
  'host-proc',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface RuntimeInfo {
  /** Which implementation, e.g. `docker`. */
  kind: string;
  /**
   * The engine's name as the user picks it: a docker context's name, an engine of cirt's config, or
   * `default` (DOCKER_HOST / --host / the local socket). Absent only in runtimes made by hand (tests).
   */
  name?: string;
  address: string;
  /** The runtime runs on this host, so its containers' processes are in our /proc. */
  local: boolean;
  version: string;
  apiVersion: string;
  os: string;
  kernel: string;
}

export interface ContainerRuntime {
  readonly info: RuntimeInfo;
  readonly capabilities: ReadonlySet<Capability>;

  /** Finds a container by exact name, exact id, or a unique id prefix (UserError when none or several). */
  resolve(ref: string): Promise<Target>;
  /** The one container whose full id is `id` (64 hex) or starts with it (12 hex); undefined when none. */
  findById(id: string): Promise<Target | undefined>;
  /** The container named exactly `name` (never a prefix, never an id); undefined when none. */
  findByName(name: string): Promise<Target | undefined>;
  list(opts: { all: boolean }): Promise<ContainerSummary[]>;
  /** Every image with its parent, tags and digests (`--filter ancestor=…` walks this graph). */
  images(): Promise<ImageNode[]>;
  /** Inspects a container; one that is gone is a RuntimeError of kind `gone` naming it. */
  inspect(ref: ContainerRef): Promise<ContainerFacts>;

  /** The logs, split or raw by `tty` (as the container was created). */
  /** Bytes in the container's writable layer (the runtime may walk it: slow), undefined when it does not say. */
  writableLayerBytes(ref: ContainerRef): Promise<number | undefined>;
  logs(ref: ContainerRef & { tty: boolean }, q: LogQuery, signal?: AbortSignal): Promise<LogStream>;
  /** The runtime's filesystem change listing of the container, as its raw JSON bytes. */
  changes(ref: ContainerRef, signal?: AbortSignal): Promise<Sourced>;
  /** A tar of one path (exact bytes; symlinks not followed). */
  archive(ref: ContainerRef, path: Buffer, signal?: AbortSignal): Promise<Readable>;
  /** Provenance of archive requests (without the path). */
  archiveSource(ref: ContainerRef): string;
  /** Whether a path in the container is a directory; null when it does not exist. */
  isDirectory(ref: ContainerRef, path: Buffer, signal?: AbortSignal): Promise<boolean | null>;
  export(ref: ContainerRef, signal?: AbortSignal): Promise<Sourced>;
  top(
    ref: ContainerRef,
    psArgs?: string,
  ): Promise<{ data: unknown; processes: number; source: string }>;
  /** The runtime's events about the container between two times (Unix seconds). */
  events(
    ref: ContainerRef,
    range: { since: string; until: string },
    signal?: AbortSignal,
  ): Promise<EventHistory>;
  /** A stream with a chunk per container or network event anywhere on the runtime (for live views). */
  activity(): Promise<Readable>;
  /**
   * Every event of the runtime from `since` (Unix seconds, fraction allowed) on, as raw JSON lines:
   * the runtime's buffer first, then live until `signal` aborts or the connection ends (the flight
   * recorder's feed; an end means the stream was lost).
   */
  eventStream(o: { since?: string }, signal?: AbortSignal): Promise<Sourced>;
  image(id: string): Promise<ImageFacts>;
  imageHistory(id: string): Promise<{ raw: unknown; source: string }>;
  imageExists(ref: string): Promise<boolean>;
  commit(
    ref: ContainerRef,
    o: { repo: string; tag: string; comment: string },
  ): Promise<{ imageId: string; source: string }>;

  pause(ref: ContainerRef): Promise<void>;
  unpause(ref: ContainerRef): Promise<void>;
  stop(ref: ContainerRef, timeoutSeconds: number): Promise<void>;
  kill(ref: ContainerRef, signal: string): Promise<void>;

  /** Finds or creates the quarantine network and resolves the endpoints' network ids: changes no container. */
  prepareIsolation(facts: ContainerFacts, network: string): Promise<IsolationPlan>;
  /** Takes the container off `plan`'s other networks and onto the quarantine under `alias`. */
  isolate(
    facts: ContainerFacts,
    plan: IsolationPlan,
    alias: string,
    progress: (message: string) => void,
  ): Promise<{ failures: string[]; stillOn: string[] }>;
  /** Puts the container back on the networks the records took it off; leaves the quarantine. */
  restoreNetworks(
    facts: ContainerFacts,
    caseId: string,
    records: IsolationToUndo[],
  ): Promise<RestoreOutcome>;
  /** Quarantine networks on this runtime (internal and labelled as cirt's). */
  quarantineNetworks(): Promise<{ id: string; name: string }[]>;
  /** The endpoint aliases of the container on one network (null when it is gone). */
  aliasesOn(ref: ContainerRef, network: string): Promise<string[] | null>;

  /** The limits to set for a request, against the container's current ones: before and after. */
  planLimits(
    facts: ContainerFacts,
    want: { cpus?: number; memory?: number; pids?: number },
  ): { before: Limits; after: Partial<Limits> };
  setLimits(ref: ContainerRef, after: Partial<Limits>): Promise<void>;
  /** Puts back the fields `touched` to `original`, as far as the runtime allows (warnings say how far). */
  restoreLimits(
    facts: ContainerFacts,
    original: Limits,
    touched: (keyof Limits)[],
  ): Promise<RestoreOutcome>;
  setRestartPolicy(ref: ContainerRef, policy: RestartPolicy): Promise<void>;

  /** Runs a short-lived helper container in the target's network and pid namespaces (remote reads). */
  runHelper(o: HelperOptions): Promise<HelperResult>;
  /** A fresh name for a helper of this target. */
  helperName(ref: ContainerRef): string;

  /** Releases the connection. */
  close(): void;
}
