import { caseFromAliases } from '../runtime/quarantine.js';
import type { ContainerRuntime, ContainerSummary } from '../runtime/types.js';

/** One container with whether a cirt quarantine holds it, and by which case. */
export interface InventoryRow {
  /** The engine it runs on (RuntimeInfo.name; `default` for DOCKER_HOST / the local socket). */
  engine: string;
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
export async function inventory(
  runtime: ContainerRuntime,
  all: boolean,
  listed?: ContainerSummary[],
): Promise<InventoryRow[]> {
  const [containers, qNets] = await Promise.all([
    listed ?? runtime.list({ all }),
    runtime.quarantineNetworks(),
  ]);
  const quarantine = new Set(qNets.map((n) => n.id));
  const quarantineNames = new Set(qNets.map((n) => n.name));
  const rows: InventoryRow[] = [];
  for (const c of containers) {
    // A stopped container's endpoints have no network id: match those by network name.
    const q = c.networks.find(
      (n) => quarantine.has(n.id) || (!n.id && quarantineNames.has(n.name)),
    );
    rows.push({
      engine: runtime.info.name ?? 'default',
      name: c.name,
      id: c.id,
      image: c.image,
      state: c.state,
      status: c.status,
      networks: c.networks.map((n) => n.name).sort(),
      quarantined: Boolean(q),
      // The list leaves aliases out; only quarantined containers need an inspect.
      case: q ? await quarantineCase(runtime, c, q.name) : null,
    });
  }
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

async function quarantineCase(
  runtime: ContainerRuntime,
  c: ContainerSummary,
  network: string,
): Promise<string | null> {
  // Removed between list and inspect (null): nothing to say about its case.
  return caseFromAliases(await runtime.aliasesOn(c, network)) ?? null;
}
