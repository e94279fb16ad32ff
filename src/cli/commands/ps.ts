import type Docker from 'dockerode';
import { connectEngine } from '../../docker/connection.js';
import { caseFromAliases, isQuarantine, QUARANTINE_LABEL } from '../../docker/networks.js';
import { EXIT } from '../../errors.js';
import { engineStatus } from '../../docker/errors.js';
import { clip } from '../../util/sanitize.js';
import { println, type CommandIO, type GlobalOptions } from '../io.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
}

export interface PsRow {
  name: string;
  id: string;
  image: string;
  state: string;
  status: string;
  networks: string[];
  quarantined: boolean;
  /** The case whose alias is on the quarantine endpoint; null when unknown. */
  case: string | null;
}

/**
 * Lists containers with whether a cirt quarantine holds them, and by which case. A caller that has
 * just listed the containers itself (the TUI) passes that list instead of asking again.
 */
export async function listContainers(docker: Docker, all: boolean, listed?: Docker.ContainerInfo[]): Promise<PsRow[]> {
  const [containers, nets] = await Promise.all([
    listed ?? docker.listContainers({ all }),
    docker.listNetworks({ filters: { label: [`${QUARANTINE_LABEL}=1`] } }),
  ]);
  const qNets = nets.filter(isQuarantine);
  const quarantine = new Set(qNets.map((n) => n.Id));
  const quarantineNames = new Set(qNets.map((n) => n.Name));
  const rows: PsRow[] = [];
  for (const c of containers) {
    const endpoints = c.NetworkSettings?.Networks ?? {};
    // A stopped container's endpoints have no NetworkID: match those by network name.
    const qName = Object.keys(endpoints).find((n) => quarantine.has(endpoints[n].NetworkID) || (!endpoints[n].NetworkID && quarantineNames.has(n)));
    const q = qName ? { name: qName, id: endpoints[qName].NetworkID } : undefined;
    rows.push({
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      id: c.Id,
      image: c.Image,
      state: c.State,
      status: c.Status,
      networks: Object.keys(endpoints).sort(),
      quarantined: Boolean(q),
      // The list endpoint leaves aliases out; only quarantined containers need an inspect.
      case: q ? await quarantineCase(docker, c.Id, q.name) : null,
    });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

async function quarantineCase(docker: Docker, id: string, network: string): Promise<string | null> {
  try {
    const nets = (await docker.getContainer(id).inspect()).NetworkSettings.Networks;
    return caseFromAliases(nets[network]?.Aliases) ?? null;
  } catch (err) {
    // Removed between list and inspect: nothing to say about its case.
    if (engineStatus(err) === 404) return null;
    throw err;
  }
}

/** `cirt ps [--all] [--json]`. Every name comes from the engine (and maybe an attacker): sanitised. */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  const engine = await connectEngine(o.host, io.env);
  const rows = await listContainers(engine.docker, Boolean(o.all));
  if (o.json) {
    println(io.out, JSON.stringify(rows));
    return EXIT.ok;
  }
  if (!rows.length) {
    println(io.out, o.all ? 'No containers.' : 'No running containers (use --all to include stopped ones).');
    return EXIT.ok;
  }
  const table = rows.map((r) => [
    clip(r.name, 40),
    r.id.slice(0, 12),
    clip(r.image, 30),
    r.state,
    clip(r.networks.join(',') || '-', 40),
    r.quarantined ? `quarantined (case ${r.case ? clip(r.case, 60) : 'unknown'})` : '',
  ]);
  const head = ['NAME', 'ID', 'IMAGE', 'STATE', 'NETWORKS', 'CONTAINMENT'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table]) println(io.out, row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
  return EXIT.ok;
}
