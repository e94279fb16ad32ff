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
    r.quarantined ? `quarantined (case ${r.case ? clip(r.case, 60) : 'unknown'})` : '',
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
