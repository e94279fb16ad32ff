import { egressCases } from '../containment/egress-release.js';
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
  /** Cases whose egress restriction (contain:restrict-egress) is in the container's namespace; empty when none or unknown (remote). */
  egress: string[];
  /** Published ports as the runtime lists them (`0.0.0.0:8080->80/tcp`). */
  ports: string[];
  /**
   * Every measure in force on it: what the engine shows (paused, quarantined) and what the
   * custody of cases in the cases folder says they still hold (restart policy, limits), with the
   * case(s) holding each. Empty: nothing cirt knows of.
   */
  containment: { measure: string; cases: string[] }[];
}

/** Measures held per container id, from the cases folder (offline, see app/cases.ts). */
export type HeldMeasures = Map<string, { measure: string; cases: string[] }[]>;

/**
 * Lists containers with whether a cirt quarantine holds them, and by which case. A caller that has
 * just listed the containers itself (the TUI) passes that list instead of asking again.
 */
export async function inventory(
  runtime: ContainerRuntime,
  all: boolean,
  listed?: ContainerSummary[],
  held: HeldMeasures = new Map(),
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
    // The list leaves aliases out; only quarantined containers need an inspect.
    const qCase = q ? await quarantineCase(runtime, c, q.name) : null;
    const seen: InventoryRow['containment'] = [];
    if (c.state === 'paused') seen.push({ measure: 'paused', cases: [] });
    if (q) seen.push({ measure: 'quarantined', cases: qCase ? [qCase] : [] });
    for (const h of held.get(c.id) ?? []) {
      // The case's words for what the engine shows: the pause, the network isolation.
      const shown =
        h.measure === 'pause' ? 'paused' : h.measure === 'network isolation' ? 'quarantined' : '';
      const same = seen.find((x) => x.measure === shown);
      // What the engine shows wins; the cases only add who holds it (and what it cannot show).
      if (same) same.cases = [...new Set([...same.cases, ...h.cases])];
      else if (h.measure !== 'pause' && h.measure !== 'network isolation') seen.push(h);
    }
    rows.push({
      engine: runtime.info.name ?? 'default',
      name: c.name,
      id: c.id,
      image: c.image,
      state: c.state,
      status: c.status,
      networks: c.networks.map((n) => n.name).sort(),
      quarantined: Boolean(q),
      case: qCase,
      egress: [],
      ports: c.ports,
      containment: seen,
    });
  }
  await addEgress(runtime, rows);
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

/** Egress restrictions are rules inside each namespace: only a runtime on this host can see them. */
async function addEgress(runtime: ContainerRuntime, rows: InventoryRow[]): Promise<void> {
  if (!runtime.capabilities.has('host-proc')) return;
  await Promise.all(
    rows
      .filter((r) => r.state === 'running' || r.state === 'paused')
      .map(async (r) => {
        try {
          const facts = await runtime.inspect(r);
          r.egress = await egressCases(facts.state.pid);
        } catch {
          // Gone between list and inspect, or its namespace cannot be read: nothing to say.
        }
      }),
  );
}
