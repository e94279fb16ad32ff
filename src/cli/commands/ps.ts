import { inventory, type InventoryRow } from '../../app/inventory.js';
import { connect } from '../../app/env.js';
import { matchOnEngine } from '../../app/targets.js';
import { EXIT } from '../../errors.js';
import { parseFilters } from '../../runtime/filters.js';
import { clip } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
  /** `--filter key=value` in the docker CLI's syntax (src/runtime/filters.ts), ANDed across keys. */
  filter?: string[];
}

/** A row of `cirt ps` (the app's inventory row). */
export type PsRow = InventoryRow;

/** `cirt ps [--all] [--json]`. Every name comes from the engine (and maybe an attacker): sanitised. */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  // A bad filter is a usage error found before the engine is asked anything.
  const filter = o.filter?.length ? parseFilters(o.filter) : undefined;
  const runtime = await connect(appEnv(o, io));
  const listed = filter ? await matchOnEngine(runtime, filter, Boolean(o.all)) : undefined;
  const rows = await inventory(runtime, Boolean(o.all), listed);
  if (o.json) {
    println(io.out, JSON.stringify(rows));
    return EXIT.ok;
  }
  if (!rows.length) {
    println(
      io.out,
      filter
        ? 'No container matches the filter.'
        : o.all
          ? 'No containers.'
          : 'No running containers (use --all to include stopped ones).',
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
