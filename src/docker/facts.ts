import type Docker from 'dockerode';
import type { ContainerFacts, ContainerSummary, RestartPolicy, Target } from '../runtime/types.js';
import { containerName } from './inspect.js';
import { currentLimits } from './limits.js';
import { endpointRecords, sharedNamespace } from './networks.js';

/** The engine reports "no" as either "" or "no". */
export function normalisePolicy(
  p: { Name?: string; MaximumRetryCount?: number } | undefined,
): RestartPolicy {
  return { Name: p?.Name ? p.Name : 'no', MaximumRetryCount: p?.MaximumRetryCount ?? 0 };
}

/** A Docker inspect as cirt's normalised facts; the inspect itself is kept as `raw`. */
export function factsOf(info: Docker.ContainerInspectInfo): ContainerFacts {
  const st = info.State ?? ({} as Partial<Docker.ContainerInspectInfo['State']>);
  const log = info.HostConfig?.LogConfig?.Type;
  return {
    id: info.Id,
    name: containerName(info),
    image: info.Config?.Image ?? '',
    imageId: info.Image,
    created: info.Created,
    state: {
      status: st.Status ?? '?',
      running: Boolean(st.Running),
      paused: Boolean(st.Paused),
      dead: Boolean(st.Dead),
      pid: st.Pid ?? 0,
      exitCode: st.ExitCode ?? 0,
      startedAt: st.StartedAt ?? '',
    },
    tty: Boolean(info.Config?.Tty),
    networkMode: info.HostConfig?.NetworkMode ?? '',
    ...(sharedNamespace(info) ? { sharedNetwork: sharedNamespace(info) } : {}),
    networks: endpointRecords(info),
    ports: (info.NetworkSettings?.Ports ?? {}) as ContainerFacts['ports'],
    limits: currentLimits(info),
    restartPolicy: normalisePolicy(info.HostConfig?.RestartPolicy),
    ...mountFactsOf(info),
    log: { driver: log ?? '?', ...(info.LogPath ? { path: info.LogPath } : {}) },
    raw: info,
    source: `GET /containers/${info.Id}/json`,
  };
}

export function targetOf(f: ContainerFacts): Target {
  return {
    id: f.id,
    name: f.name,
    image: f.image,
    imageId: f.imageId,
    state: f.state.status,
    running: f.state.running,
    paused: f.state.paused,
    pid: f.state.pid,
  };
}

/** One entry of the engine's container list, normalised. */
export function summaryOf(c: Docker.ContainerInfo): ContainerSummary {
  const nets = c.NetworkSettings?.Networks ?? {};
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    status: c.Status,
    created: c.Created,
    command: c.Command,
    networks: Object.keys(nets).map((name) => ({
      name,
      id: nets[name]?.NetworkID ?? '',
      ip: nets[name]?.IPAddress ?? '',
    })),
    ports: (c.Ports ?? []).map((pt) =>
      pt.PublicPort
        ? `${pt.IP ?? ''}:${pt.PublicPort}->${pt.PrivatePort}/${pt.Type}`
        : `${pt.PrivatePort}/${pt.Type}`,
    ),
    labels: { ...(c.Labels ?? {}) },
    imageId: c.ImageID ?? '',
  };
}

/** The mounts of an inspected container and how the engine set them up, normalised. */
export function mountFactsOf(
  info: Docker.ContainerInspectInfo,
): Pick<ContainerFacts, 'mounts' | 'mountSetup'> {
  const mounts = (info.Mounts ?? []).map((m) => {
    const x = m as typeof m & {
      Name?: string;
      Driver?: string;
      Mode?: string;
      Propagation?: string;
    };
    return {
      type: m.Type,
      source: m.Source,
      destination: m.Destination,
      rw: Boolean(m.RW),
      ...(x.Name ? { name: x.Name } : {}),
      ...(x.Driver ? { driver: x.Driver } : {}),
      ...(x.Mode ? { mode: x.Mode } : {}),
      ...(x.Propagation ? { propagation: x.Propagation } : {}),
    };
  });
  return { mounts, mountSetup: mountSetupOf(info) };
}

/** What collect:mounts needs of how the engine set the mounts up (inspect names them). */
function mountSetupOf(info: Docker.ContainerInspectInfo): ContainerFacts['mountSetup'] {
  const h = info.HostConfig as
    { MaskedPaths?: string[]; Tmpfs?: Record<string, string>; IpcMode?: string } | undefined;
  const paths = info as unknown as {
    HostsPath?: string;
    ResolvConfPath?: string;
    HostnamePath?: string;
  };
  const files: Record<string, string> = {};
  for (const [mp, src] of [
    ['/etc/hosts', paths.HostsPath],
    ['/etc/resolv.conf', paths.ResolvConfPath],
    ['/etc/hostname', paths.HostnamePath],
  ] as const)
    if (src) files[mp] = src;
  return {
    maskedPaths: h?.MaskedPaths ?? [],
    tmpfs: Object.keys(h?.Tmpfs ?? {}),
    runtimeFiles: files,
    ipcMode: h?.IpcMode ?? '',
  };
}
