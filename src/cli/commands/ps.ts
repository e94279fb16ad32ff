import { inventory, type InventoryRow } from '../../app/inventory.js';
import { connect } from '../../app/env.js';
import { EXIT } from '../../errors.js';
import { clip } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
}

/** A row of `cirt ps` (the app's inventory row). */
export type PsRow = InventoryRow;

/** What cirt holds the container with: quarantine and egress restriction, each with its case. */
function containment(r: PsRow): string {
  const parts: string[] = [];
  if (r.quarantined) parts.push(`quarantined (case ${r.case ? clip(r.case, 60) : 'unknown'})`);
  for (const c of r.egress) parts.push(`egress restricted (case ${clip(c, 60)})`);
  return parts.join(', ');
}

/** `cirt ps [--all] [--json]`. Every name comes from the engine (and maybe an attacker): sanitised. */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  const runtime = await connect(appEnv(o, io));
  const rows = await inventory(runtime, Boolean(o.all));
  if (o.json) {
    println(io.out, JSON.stringify(rows));
    return EXIT.ok;
  }
  if (!rows.length) {
    println(
      io.out,
      o.all ? 'No containers.' : 'No running containers (use --all to include stopped ones).',
    );
    return EXIT.ok;
  }
  const table = rows.map((r) => [
    clip(r.name, 40),
    r.id.slice(0, 12),
    clip(r.image, 30),
    r.state,
    clip(r.networks.join(',') || '-', 40),
    containment(r),
  ]);
  const head = ['NAME', 'ID', 'IMAGE', 'STATE', 'NETWORKS', 'CONTAINMENT'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table])
    println(
      io.out,
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  return EXIT.ok;
}
