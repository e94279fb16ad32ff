import type Docker from 'dockerode';
import { PreconditionError } from '../errors.js';
import { engineMessage, engineStatus } from './errors.js';
import { QUARANTINE_LABEL } from '../runtime/quarantine.js';
import type { EndpointRecord, QuarantineNetwork } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';

type Inspect = Docker.ContainerInspectInfo;

/** Every network endpoint of an inspected container, in a stable order. */
export function endpointRecords(info: Inspect): EndpointRecord[] {
  const nets = info.NetworkSettings?.Networks ?? {};
  return Object.keys(nets)
    .sort()
    .map((name) => {
      const e = nets[name] as Docker.NetworkInfo & {
        IPAMConfig?: EndpointRecord['ipamConfig'];
        Links?: string[] | null;
      };
      const ipam = e.IPAMConfig && Object.keys(e.IPAMConfig).length ? e.IPAMConfig : null;
      return {
        name,
        id: e.NetworkID,
        aliases: e.Aliases ?? [],
        ipv4: e.IPAddress ?? '',
        ipv6: e.GlobalIPv6Address ?? '',
        mac: e.MacAddress ?? '',
        gateway: e.Gateway ?? '',
        ipamConfig: ipam,
        links: e.Links ?? [],
      };
    });
}

/**
 * A stopped container's inspect leaves NetworkID empty. Fill the ids in by name, so comparing by id
 * and calling the API (an empty id would address `/networks//…`) work the same as for a running one.
 * A network that no longer exists keeps the empty id; callers then address it by name.
 */
export async function resolveEndpointIds(
  docker: Docker,
  endpoints: EndpointRecord[],
): Promise<EndpointRecord[]> {
  return Promise.all(
    endpoints.map(async (e) =>
      e.id ? e : { ...e, id: (await inspectNetwork(docker, e.name))?.Id ?? '' },
    ),
  );
}

/**
 * Networks that cannot be left through the engine: the container shares the host's or another
 * container's network namespace. Returns why, or undefined when disconnecting works.
 */
export function sharedNamespace(info: Inspect): string | undefined {
  const mode = info.HostConfig?.NetworkMode ?? '';
  if (mode === 'host') return "uses the host's network namespace (network mode host)";
  if (mode.startsWith('container:'))
    return `shares the network namespace of container ${safeText(mode.slice('container:'.length, 'container:'.length + 12))}`;
  return undefined;
}

/** True for a network that is internal and labelled as cirt's quarantine. */
export function isQuarantine(net: {
  Internal?: boolean;
  Labels?: Record<string, string> | null;
}): boolean {
  return Boolean(net.Internal) && net.Labels?.[QUARANTINE_LABEL] === '1';
}

/**
 * Finds the quarantine network by name, creating it when missing: internal (no route out),
 * inter-container traffic off (two quarantined containers cannot talk), labelled as cirt's.
 * An existing network of that name that is not internal is refused: it would not contain anything.
 */
export async function ensureQuarantineNetwork(
  docker: Docker,
  name: string,
): Promise<QuarantineNetwork> {
  const existing = await oldestOfName(docker, name);
  if (existing) return checkExisting(existing);
  try {
    const net = await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      Labels: { [QUARANTINE_LABEL]: '1' },
      Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    });
    return await oneOfName(docker, name, net.id);
  } catch (err) {
    // Another cirt process created it between our inspect and create: use theirs.
    if (engineStatus(err) === 409) {
      const raced = await oldestOfName(docker, name);
      if (raced) return checkExisting(raced);
    }
    throw err;
  }
}

/**
 * CheckDuplicate is best effort: two cirt runs (alerts on two containers at once) can both create
 * the network, and then its name is ambiguous to every later lookup (seen on dockerd 20.10). Every
 * creator settles on the same one, the oldest of our label, and removes its own if that lost.
 */
async function oneOfName(docker: Docker, name: string, ours: string): Promise<QuarantineNetwork> {
  const winner = await oldestOfName(docker, name);
  if (!winner || winner.Id === ours) return { id: ours, name, created: true, warnings: [] };
  // Just created by us, nothing attached yet: removing it cannot cut anyone off.
  await docker
    .getNetwork(ours)
    .remove()
    .catch(() => undefined);
  return checkExisting(winner);
}

/**
 * The network of exactly this name (the engine's inspect also matches id prefixes, and fails as
 * "ambiguous" while two of one name exist); of several, the oldest, which every racer picks.
 */
async function oldestOfName(docker: Docker, name: string): Promise<NetInspect | undefined> {
  let list: (NetInspect & { Created?: string })[];
  try {
    list = (await docker.listNetworks({ filters: { name: [name] } })) as typeof list;
  } catch (err) {
    throw new PreconditionError(`cannot list networks named ${name}: ${engineMessage(err)}`, {
      cause: err,
    });
  }
  const same = list.filter((n) => n.Name === name);
  same.sort(
    (a, b) => nanoTime(a.Created).localeCompare(nanoTime(b.Created)) || a.Id.localeCompare(b.Id),
  );
  return same[0];
}

/** The engine's RFC3339Nano drops trailing zeros of the fraction: pad it so strings sort as times. */
function nanoTime(t: string | undefined): string {
  const m = /^(.*?T\d\d:\d\d:\d\d)(?:\.(\d+))?(.*)$/.exec(t ?? '');
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0')}${m[3]}` : (t ?? '');
}

interface NetInspect {
  Id: string;
  Name: string;
  Internal?: boolean;
  Driver?: string;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

async function inspectNetwork(docker: Docker, name: string): Promise<NetInspect | undefined> {
  try {
    const n = (await docker.getNetwork(name).inspect()) as NetInspect;
    // The engine also matches id prefixes; only an exact name is the network we asked for.
    return n.Name === name ? n : undefined;
  } catch (err) {
    if (engineStatus(err) === 404) return undefined;
    throw new PreconditionError(`cannot inspect network ${name}: ${engineMessage(err)}`, {
      cause: err,
    });
  }
}

function checkExisting(n: NetInspect): QuarantineNetwork {
  if (!n.Internal) {
    throw new PreconditionError(
      `network ${n.Name} exists but is not internal (it has a route out), so it cannot be a quarantine`,
      {
        hint: `Pick another name with the step's \`network\` param, or remove that network (docker network rm ${n.Name}).`,
      },
    );
  }
  const warnings: string[] = [];
  if (n.Labels?.[QUARANTINE_LABEL] !== '1')
    warnings.push(
      `network ${n.Name} lacks the label ${QUARANTINE_LABEL}=1, so \`cirt ps\` will not show the container as quarantined`,
    );
  if (n.Options?.['com.docker.network.bridge.enable_icc'] !== 'false')
    warnings.push(
      `network ${n.Name} lets its containers talk to each other (enable_icc is not false)`,
    );
  return { id: n.Id, name: n.Name, created: false, warnings };
}

/** Aliases to give back on reconnect: the engine adds the short container id itself. */
export function restorableAliases(rec: EndpointRecord, containerId: string): string[] {
  return rec.aliases.filter((a) => a !== containerId.slice(0, 12));
}
