import type { MountInfo } from '../host/mountinfo.js';
import type { ContainerFacts, MountFact } from '../runtime/types.js';

/** What a mount is, as far as collecting it goes (evidence-formats.md, fs/mounts.json). */
export type MountKind =
  | 'rootfs'
  | 'kernel'
  | 'masked'
  | 'tmpfs'
  | 'anonymous-volume'
  | 'named-volume'
  | 'bind'
  | 'engine-file'
  | 'other';

/** One line of fs/mounts.json. */
export interface MountRecord {
  /** 1-based; the content (when collected) is fs/mounts/<n>.tar. */
  n: number;
  mountPoint: string;
  kind: MountKind;
  fsType: string | null;
  /** The host path (bind), volume name (volume), or mountinfo's source field. */
  source: string | null;
  /** mountinfo's root: the path inside the source filesystem that is mounted. */
  fsRoot: string | null;
  readOnly: boolean | null;
  /** From inspect `Mounts` (Type, Name, Driver, Mode, RW, Propagation) when the engine lists it there. */
  engine: Record<string, unknown> | null;
  mountId: number | null;
  collected: 'yes' | 'partly' | 'no';
  /** Why not (or what was cut), in words. */
  why?: string;
  tar?: string;
  files?: number;
  bytes?: number;
}

/** Filesystems the kernel makes up: nothing an attacker drops there survives as a file to collect. */
const KERNEL_FS = new Set([
  'proc',
  'sysfs',
  'cgroup',
  'cgroup2',
  'devpts',
  'mqueue',
  'securityfs',
  'debugfs',
  'tracefs',
  'bpf',
  'pstore',
  'fusectl',
  'configfs',
  'binfmt_misc',
  'hugetlbfs',
  'autofs',
  'nsfs',
  'efivarfs',
  'selinuxfs',
]);
/** Files the engine writes for every container and bind-mounts in (inspect: HostsPath, ResolvConfPath, HostnamePath). */
export const ENGINE_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'];
/** Docker names an anonymous volume with 64 random hex digits (20.10 has no label for it). */
const ANONYMOUS_NAME = /^[0-9a-f]{64}$/;

/** The runtime's words for one mount, as fs/mounts.json keeps them (the engine's inspect field names). */
function engineFacts(m: MountFact): Record<string, unknown> {
  const fields: [string, unknown][] = [
    ['Type', m.type],
    ['Name', m.name],
    ['Source', m.source],
    ['Destination', m.destination],
    ['Driver', m.driver],
    ['Mode', m.mode],
    ['RW', m.rw],
    ['Propagation', m.propagation],
  ];
  return Object.fromEntries(fields.filter(([, v]) => v !== undefined && v !== ''));
}

function kindOfInspect(m: MountFact): MountKind {
  if (m.type === 'volume')
    return ANONYMOUS_NAME.test(m.name ?? '') ? 'anonymous-volume' : 'named-volume';
  if (m.type === 'bind') return 'bind';
  if (m.type === 'tmpfs') return 'tmpfs';
  return 'other';
}

/**
 * Every mount of the container, from mountinfo (what the kernel says is mounted, read from the host)
 * joined with inspect `Mounts` (what the engine says it mounted, and from where). Without mountinfo
 * (remote engine) the list is the engine's view plus its own files. A mount point mounted twice lists
 * the top one only: that is what the container sees.
 */
export function planMounts(
  facts: Pick<ContainerFacts, 'mounts' | 'mountSetup'>,
  mountinfo: MountInfo[] | null,
): MountRecord[] {
  const inspectMounts = facts.mounts.filter((m) => typeof m.destination === 'string');
  const byDest = new Map(inspectMounts.map((m) => [m.destination, m]));
  // The engine hides these /proc and /sys paths with an empty read-only tmpfs or a bind of /dev/null.
  const masked = new Set(facts.mountSetup.maskedPaths);
  const tmpfsDecl = new Set(facts.mountSetup.tmpfs);
  const out: Omit<MountRecord, 'n' | 'collected'>[] = [];
  if (mountinfo) {
    const top = new Map<string, MountInfo>();
    for (const m of mountinfo) top.set(m.mountPoint, m);
    for (const m of top.values()) {
      const e = byDest.get(m.mountPoint);
      let kind: MountKind;
      if (m.mountPoint === '/') kind = 'rootfs';
      else if (KERNEL_FS.has(m.fsType)) kind = 'kernel';
      else if (masked.has(m.mountPoint) && !e) kind = 'masked';
      else if (e) kind = kindOfInspect(e);
      else if (m.fsType === 'tmpfs' || m.fsType === 'ramfs' || tmpfsDecl.has(m.mountPoint))
        kind = 'tmpfs';
      else if (ENGINE_FILES.includes(m.mountPoint)) kind = 'engine-file';
      else kind = 'other';
      out.push({
        mountPoint: m.mountPoint,
        kind,
        fsType: m.fsType,
        source: e?.type === 'volume' ? (e.name ?? null) : (e?.source ?? m.source),
        fsRoot: m.root,
        readOnly: m.options.includes('ro'),
        engine: e ? engineFacts(e) : null,
        mountId: m.id,
      });
    }
  } else {
    for (const e of inspectMounts) {
      out.push({
        mountPoint: e.destination,
        kind: kindOfInspect(e),
        fsType: null,
        source: e.type === 'volume' ? (e.name ?? null) : (e.source ?? null),
        fsRoot: null,
        readOnly: !e.rw,
        engine: engineFacts(e),
        mountId: null,
      });
    }
    for (const d of tmpfsDecl)
      if (!byDest.has(d))
        out.push({
          mountPoint: d,
          kind: 'tmpfs',
          fsType: 'tmpfs',
          source: null,
          fsRoot: null,
          readOnly: null,
          engine: null,
          mountId: null,
        });
    for (const [mp, src] of Object.entries(facts.mountSetup.runtimeFiles)) {
      if (src && !byDest.has(mp))
        out.push({
          mountPoint: mp,
          kind: 'engine-file',
          fsType: null,
          source: src,
          fsRoot: null,
          readOnly: null,
          engine: null,
          mountId: null,
        });
    }
    // Docker mounts a tmpfs at /dev/shm unless the container shares another's IPC or the host's.
    const ipc = facts.mountSetup.ipcMode;
    if (
      !byDest.has('/dev/shm') &&
      !tmpfsDecl.has('/dev/shm') &&
      !ipc.startsWith('container:') &&
      ipc !== 'host' &&
      ipc !== 'none'
    ) {
      out.push({
        mountPoint: '/dev/shm',
        kind: 'tmpfs',
        fsType: 'tmpfs',
        source: 'shm',
        fsRoot: null,
        readOnly: null,
        engine: null,
        mountId: null,
      });
    }
  }
  out.sort((a, b) => (a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0));
  return out.map((m, i) => ({ n: i + 1, ...m, collected: 'no' }));
}
