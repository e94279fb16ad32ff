import { Diagnostics, latestOf, readJson } from '../timeline/artifacts.js';
import { loadAttribution } from '../timeline/attribution.js';
import { loadAllEngineEvents } from '../timeline/engine-events.js';
import { execSessions, type ExecSession } from '../timeline/exec-sessions.js';
import { loadFsEntries, type FsEntry } from '../timeline/fs-entries.js';
import type { CaseSource } from '../evidence/case-source.js';
import { cidr, type Cidr } from './ip.js';
import { loadDeepEvidence, type TrafficFlow, type YaraHit } from './deep-evidence.js';

/** A pointer into the evidence, as findings.json writes it. */
export interface EvidenceRef {
  artifact: string;
  ref: { line?: number; entry?: number; field?: string };
}

export interface ProcessInfo {
  pid: number;
  nspid: number | null;
  ppid: number;
  comm: string;
  cmdline: string[];
  exe: string | null;
  entry: number;
  /** Open fds and what they point at (`socket:[123]`, a path), when collected from the host. */
  fds?: { fd: number; target: string }[];
}

/** One line of procfiles/index.json (collect:process-files). */
export interface ProcessFileInfo {
  pid: number;
  nspid: number | null;
  comm: string;
  kind: string;
  fd?: number;
  link: string;
  deleted: boolean;
  memfd: boolean;
  sha256: string | null;
  bytes: number;
  size: number | null;
  complete: boolean;
  fileArtifact: string | null;
  entry: number;
}

export interface SocketInfo {
  proto: string;
  localAddress: string | null;
  localPort: number | null;
  remoteAddress: string | null;
  remotePort: number | null;
  state: string;
  processes: string[];
  phase: string;
  artifact: string;
  entry: number;
}

/** Everything the matchers look at, loaded once from a case (folder or bundle). */
export interface Evidence {
  files: readonly string[];
  inspect?: { artifact: string; doc: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  imageInspect?: { artifact: string; doc: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  fs: FsEntry[];
  processes?: { artifact: string; list: ProcessInfo[] };
  processFiles?: { artifact: string; list: ProcessFileInfo[] };
  sockets: SocketInfo[];
  execs?: { sessions: ExecSession[] };
  /** Subnets the container was on (inspect, isolation record, routes/interfaces snapshots). */
  networks: Cidr[];
  /** `80/tcp` style keys declared by the image or the container's config. */
  exposed: Set<string>;
  /** The container's PATH directories (container env, else image env, else a default). */
  pathDirs: string[];
  /** yara/matches.json (evidence:yara) and traffic/<phase>/flows.json (collect:traffic). */
  yara?: YaraHit[];
  traffic?: TrafficFlow[];
  diag: Diagnostics;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function envValue(env: unknown, name: string): string | undefined {
  if (!Array.isArray(env)) return undefined;
  const hit = env.find((e) => typeof e === 'string' && e.startsWith(`${name}=`)) as
    string | undefined;
  return hit?.slice(name.length + 1);
}

/** Loads the evidence the finding rules need. Missing artifacts leave their part empty (with a note). */
export async function loadEvidence(src: CaseSource, diag = new Diagnostics()): Promise<Evidence> {
  const files = await src.list();
  const json = async (
    rel: string | undefined,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
  ): Promise<{ artifact: string; doc: any } | undefined> => {
    if (!rel) return undefined;
    const doc = await readJson(src, rel, diag);
    return doc && typeof doc === 'object' ? { artifact: rel, doc } : undefined;
  };
  const inspect = await json(latestOf(files, 'container/inspect.json'));
  const imageInspect = await json(latestOf(files, 'container/image-inspect.json'));
  if (!inspect)
    diag.note(
      'findings: no container/inspect.json; env, network and entrypoint rules have less to go on',
    );
  const { entries: fs } = await loadFsEntries(src, files, diag);

  const procRel = latestOf(files, 'proc/processes.json');
  const procDoc = await json(procRel);
  const processes =
    procDoc && Array.isArray(procDoc.doc)
      ? {
          artifact: procDoc.artifact,
          list: (procDoc.doc as Record<string, unknown>[]).map((p, entry) => ({
            pid: Number(p?.pid),
            nspid: typeof p?.nspid === 'number' ? p.nspid : null,
            ppid: Number(p?.ppid),
            comm: String(p?.comm ?? ''),
            cmdline: Array.isArray(p?.cmdline) ? (p.cmdline as unknown[]).map(String) : [],
            exe: typeof p?.exe === 'string' ? p.exe : null,
            entry,
            fds: Array.isArray(p?.fds)
              ? (p.fds as { fd?: unknown; target?: unknown }[])
                  .filter((f) => typeof f?.fd === 'number' && typeof f?.target === 'string')
                  .map((f) => ({ fd: f.fd as number, target: f.target as string }))
              : [],
          })),
        }
      : undefined;

  const pfDoc = await json(latestOf(files, 'procfiles/index.json'));
  const processFiles =
    pfDoc && Array.isArray(pfDoc.doc)
      ? {
          artifact: pfDoc.artifact,
          list: (pfDoc.doc as Record<string, unknown>[]).map((p, entry) => ({
            pid: Number(p?.pid),
            nspid: typeof p?.nspid === 'number' ? p.nspid : null,
            comm: String(p?.comm ?? ''),
            kind: String(p?.kind ?? ''),
            ...(typeof p?.fd === 'number' ? { fd: p.fd } : {}),
            link: String(p?.link ?? ''),
            deleted: p?.deleted === true,
            memfd: p?.memfd === true,
            sha256: typeof p?.sha256 === 'string' ? p.sha256 : null,
            bytes: typeof p?.bytes === 'number' ? p.bytes : 0,
            size: typeof p?.size === 'number' ? p.size : null,
            complete: p?.complete === true,
            fileArtifact: typeof p?.artifact === 'string' ? p.artifact : null,
            entry,
          })),
        }
      : undefined;

  const sockets: SocketInfo[] = [];
  for (const rel of files.filter((f) => /^net\/[^/]+\/sockets(-\d+)?\.json$/.test(f))) {
    const d = await json(rel);
    if (!d || !Array.isArray(d.doc)) continue;
    const phase = rel.split('/')[1];
    (d.doc as Record<string, unknown>[]).forEach((s, entry) => {
      if (!s || typeof s !== 'object') return;
      sockets.push({
        proto: String(s.proto ?? ''),
        localAddress: typeof s.localAddress === 'string' ? s.localAddress : null,
        localPort: typeof s.localPort === 'number' ? s.localPort : null,
        remoteAddress: typeof s.remoteAddress === 'string' ? s.remoteAddress : null,
        remotePort: typeof s.remotePort === 'number' ? s.remotePort : null,
        state: String(s.state ?? ''),
        processes: Array.isArray(s.processes) ? s.processes.map(String) : [],
        phase,
        artifact: rel,
        entry,
      });
    });
  }

  const engineEvents = await loadAllEngineEvents(src, files, diag);
  let execs: Evidence['execs'];
  if (engineEvents) {
    execs = { sessions: execSessions(engineEvents, await loadAttribution(src, files)) };
  } else diag.note('findings: no container/events.jsonl; exec sessions cannot be seen');

  const networks: Cidr[] = [];
  const addNet = (addr: unknown, bits: unknown): void => {
    if (typeof addr !== 'string' || !addr || typeof bits !== 'number') return;
    const c = cidr(addr, bits);
    if (c) networks.push(c);
  };
  for (const n of Object.values(
    (inspect?.doc.NetworkSettings?.Networks ?? {}) as Record<string, Record<string, unknown>>,
  )) {
    addNet(n?.IPAddress, n?.IPPrefixLen);
    addNet(n?.GlobalIPv6Address, n?.GlobalIPv6PrefixLen);
  }
  for (const rel of files.filter((f) => /^net\/[^/]+\/(routes|interfaces)(-\d+)?\.json$/.test(f))) {
    const d = await json(rel);
    if (!d || !Array.isArray(d.doc)) continue;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const r of d.doc as Record<string, any>[]) {
      // A connected route (no gateway flag) is a subnet the container sits on; a default route is not.
      if (
        rel.includes('/routes') &&
        typeof r?.flags === 'string' &&
        !r.flags.includes('G') &&
        r.prefixLength > 0
      )
        addNet(r.destination, r.prefixLength);
      for (const a of [
        ...(Array.isArray(r?.ipv4) ? r.ipv4 : []),
        ...(Array.isArray(r?.ipv6) ? r.ipv6 : []),
      ])
        addNet(a?.address, a?.prefixLength);
    }
  }

  const exposed = new Set<string>();
  for (const doc of [imageInspect?.doc, inspect?.doc]) {
    for (const k of Object.keys(
      doc?.Config?.ExposedPorts ?? doc?.ContainerConfig?.ExposedPorts ?? {},
    ))
      exposed.add(k.includes('/') ? k : `${k}/tcp`);
  }
  for (const k of Object.keys(inspect?.doc.HostConfig?.PortBindings ?? {}))
    exposed.add(k.includes('/') ? k : `${k}/tcp`);

  const pathVar =
    envValue(inspect?.doc.Config?.Env, 'PATH') ??
    envValue(imageInspect?.doc.Config?.Env, 'PATH') ??
    DEFAULT_PATH;
  const pathDirs = pathVar.split(':').filter((d) => d.startsWith('/'));

  return {
    files,
    inspect,
    imageInspect,
    fs,
    processes,
    processFiles,
    sockets,
    execs,
    networks,
    exposed,
    pathDirs,
    ...(await loadDeepEvidence(src, files, diag)),
    diag,
  };
}
