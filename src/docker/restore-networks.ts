import type Docker from 'dockerode';
import { caseFromAliases } from '../runtime/quarantine.js';
import type {
  ContainerFacts,
  EndpointRecord,
  IsolationToUndo,
  PortBindings,
  RestoreOutcome,
} from '../runtime/types.js';
import { engineMessage, engineStatus } from './errors.js';
import { inspectContainer } from './inspect.js';
import { endpointRecords, resolveEndpointIds, restorableAliases } from './networks.js';

/**
 * Puts the container back on every network the case took it off (union of its isolation records,
 * the earliest record of a network wins), with the same aliases, links and — where the engine
 * allows it — the same addresses; then takes it off the quarantine. If any network cannot be
 * rejoined the container stays on the quarantine: a half-released container is still contained.
 */
export async function restoreNetworks(
  docker: Docker,
  facts: ContainerFacts,
  caseId: string,
  records: IsolationToUndo[],
): Promise<RestoreOutcome> {
  const warnings: string[] = [];
  if (!records.length)
    return { result: 'noop', message: 'the case has no isolation in effect', warnings };
  const containerId = facts.id;
  const current = new Map(
    (await resolveEndpointIds(docker, facts.networks)).map((e) => [e.name, e]),
  );
  const quarantineIds = new Set(records.map((r) => r.quarantineNetwork.id));
  // Records of a stopped container written before ids were resolved hold empty ids: match names too.
  const quarantineNames = new Set(records.map((r) => r.quarantineNetwork.name));
  const isQuarantine = (e: EndpointRecord): boolean =>
    quarantineIds.has(e.id) || (!e.id && quarantineNames.has(e.name));
  const onQuarantine = [...current.values()].filter(isQuarantine);
  // The records may be another case's, kept in force for this one by that case's release.
  const mine = new Set([caseId, ...records.map((r) => r.caseId)]);
  const other = onQuarantine.map((e) => caseFromAliases(e.aliases)).find((c) => c && !mine.has(c));
  if (other) {
    return {
      result: 'failed',
      message: `the container is now quarantined by case ${other}, not ${caseId}: release that case instead`,
      warnings,
    };
  }
  const wanted = new Map<string, EndpointRecord>();
  for (const r of records)
    for (const e of r.before) if (!wanted.has(e.name) && !isQuarantine(e)) wanted.set(e.name, e);

  const rejoined: string[] = [];
  const failures: string[] = [];
  const refused = new Map<string, string>();
  for (const rec of wanted.values()) {
    if (current.has(rec.name)) continue;
    try {
      rejoined.push(await reconnect(docker, containerId, rec, warnings, refused));
    } catch (err) {
      failures.push(`${rec.name}: ${engineMessage(err)}`);
    }
  }
  if (failures.length) {
    return {
      result: 'failed',
      message: `could not rejoin ${failures.join('; ')}; the container stays on the quarantine network`,
      details: { rejoined },
      warnings,
    };
  }
  for (const q of onQuarantine)
    await docker.getNetwork(q.id || q.name).disconnect({ Container: containerId, Force: true });
  if (!rejoined.length && !onQuarantine.length) {
    return {
      result: 'noop',
      message: `already on ${[...wanted.keys()].join(', ') || 'its networks'} and not quarantined`,
      warnings,
    };
  }
  const after = await inspectContainer(docker, containerId);
  const now = new Map(endpointRecords(after).map((e) => [e.name, e]));
  for (const rec of wanted.values())
    compare(rec, now.get(rec.name), containerId, warnings, refused.get(rec.name));
  const ports = (after.NetworkSettings?.Ports ?? {}) as PortBindings;
  comparePorts(records[0].ports, ports, warnings);
  return {
    result: 'ok',
    message: `rejoined ${rejoined.join(', ') || 'nothing'}; left ${onQuarantine.map((q) => q.name).join(', ') || 'no quarantine'}`,
    details: { rejoined, left: onQuarantine.map((q) => q.name), networks: [...now.keys()], ports },
    warnings,
  };
}

/** Connects one recorded endpoint; notes in `refused` why the engine would not take its old address. */
async function reconnect(
  docker: Docker,
  containerId: string,
  rec: EndpointRecord,
  warnings: string[],
  refused: Map<string, string>,
): Promise<string> {
  // The default bridge takes neither aliases nor fixed addresses.
  const userDefined = rec.name !== 'bridge';
  const aliases = userDefined ? restorableAliases(rec, containerId) : [];
  const address =
    rec.ipamConfig ??
    (userDefined && (rec.ipv4 || rec.ipv6)
      ? { IPv4Address: rec.ipv4 || undefined, IPv6Address: rec.ipv6 || undefined }
      : undefined);
  const config = {
    ...(aliases.length ? { Aliases: aliases } : {}),
    ...(rec.links.length ? { Links: rec.links } : {}),
  };
  const net = await findNetwork(docker, rec, warnings);
  if (address) {
    try {
      await net.connect({
        Container: containerId,
        EndpointConfig: { ...config, IPAMConfig: address },
      });
      return rec.name;
    } catch (err) {
      // Only user-configured subnets accept a fixed address, and it may be taken: join without it
      // (the engine often hands out the same address anyway; compare() reports it if not).
      refused.set(rec.name, engineMessage(err));
    }
  }
  await net.connect({ Container: containerId, EndpointConfig: config });
  return rec.name;
}

/** The recorded network by id; if it was re-created since, by name (and say so). */
async function findNetwork(
  docker: Docker,
  rec: EndpointRecord,
  warnings: string[],
): Promise<Docker.Network> {
  // An empty id (a stopped container's record) would inspect `/networks/`, the list: go by name.
  if (rec.id) {
    try {
      await docker.getNetwork(rec.id).inspect();
      return docker.getNetwork(rec.id);
    } catch (err) {
      if (engineStatus(err) !== 404) throw err;
    }
  }
  const byName = (await docker.getNetwork(rec.name).inspect()) as { Id: string; Name: string };
  if (byName.Name !== rec.name) throw new Error(`network ${rec.name} no longer exists`);
  if (rec.id)
    warnings.push(
      `network ${rec.name} was re-created since isolation (id ${rec.id.slice(0, 12)} → ${byName.Id.slice(0, 12)})`,
    );
  return docker.getNetwork(byName.Id);
}

/** Notes every way the restored endpoint differs from the recorded one. */
function compare(
  rec: EndpointRecord,
  now: EndpointRecord | undefined,
  containerId: string,
  warnings: string[],
  refused?: string,
): void {
  if (!now) {
    warnings.push(`${rec.name}: not connected after release`);
    return;
  }
  const missing = restorableAliases(rec, containerId).filter((a) => !now.aliases.includes(a));
  if (missing.length) warnings.push(`${rec.name}: aliases ${missing.join(', ')} not restored`);
  const why = refused ? ` (the engine would not take the old address: ${refused})` : '';
  if (rec.ipv4 && now.ipv4 !== rec.ipv4)
    warnings.push(`${rec.name}: IPv4 was ${rec.ipv4}, now ${now.ipv4 || 'none'}${why}`);
  if (rec.ipv6 && now.ipv6 !== rec.ipv6)
    warnings.push(`${rec.name}: IPv6 was ${rec.ipv6}, now ${now.ipv6 || 'none'}${why}`);
  if (rec.mac && now.mac !== rec.mac)
    warnings.push(`${rec.name}: MAC was ${rec.mac}, now ${now.mac}`);
}

/**
 * A port published without a fixed host port gets a new one from the engine when the container
 * rejoins (the API cannot ask for the old one back): name the new address, so nobody probes the old.
 */
function comparePorts(
  before: PortBindings | undefined,
  after: PortBindings,
  warnings: string[],
): void {
  const show = (b: { HostIp: string; HostPort: string }[] | null | undefined): string =>
    (b ?? [])
      .map((x) => `${x.HostIp}:${x.HostPort}`)
      .sort()
      .join(', ');
  for (const [port, was] of Object.entries(before ?? {})) {
    const [w, now] = [show(was), show(after[port])];
    if (w && w !== now)
      warnings.push(
        `published port ${port} was on ${w}, now on ${now || 'no host port'} (the engine picks a new host port for a port published without a fixed one)`,
      );
  }
}
