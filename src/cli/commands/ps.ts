import { heldMeasures } from '../../app/cases.js';
import { inventory, type InventoryRow } from '../../app/inventory.js';
import { connect } from '../../app/env.js';
import { EXIT, UserError } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';
import { outputWidth, renderTable } from '../width.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
  /** Only the ids (short, or full with --no-trunc), one a line: for `xargs`. */
  quiet?: boolean;
  /** Full ids and no column cut. */
  noTrunc?: boolean;
  /** `json`: one JSON object a line (as `docker ps --format json`); `table` (default). */
  format?: string;
  wide?: boolean;
}

/** A row of `cirt ps` (the app's inventory row). */
export type PsRow = InventoryRow;

/** `paused · network isolation (case A) · restart policy (case A)`; empty when nothing is in force. */
export function containmentCell(r: InventoryRow): string {
  return r.containment
    .map((c) => (c.cases.length ? `${c.measure} (case ${c.cases.join(', case ')})` : c.measure))
    .join(' · ');
}

/**
 * `cirt ps [--all] [--json] [-q] [--no-trunc] [--format json|table]`. Every name comes from the
 * engine (and maybe an attacker): sanitised. The CONTAINMENT column is every measure in force:
 * what the engine shows (paused, quarantined) and what the cases folder's custody says is still
 * held (restart policy, limits).
 */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  const format = o.format ?? (o.json ? 'array' : 'table');
  if (!['table', 'json', 'array'].includes(format))
    throw new UserError(`Unknown --format "${safeText(format)}"`, { hint: 'Use table or json.' });
  const env = appEnv(o, io);
  const runtime = await connect(env);
  const rows = await inventory(runtime, Boolean(o.all), undefined, heldMeasures(env));
  if (o.quiet) {
    for (const r of rows) println(io.out, o.noTrunc ? r.id : r.id.slice(0, 12));
    return EXIT.ok;
  }
  if (format === 'array') {
    println(io.out, JSON.stringify(rows));
    return EXIT.ok;
  }
  if (format === 'json') {
    for (const r of rows) println(io.out, JSON.stringify(r));
    return EXIT.ok;
  }
  if (!rows.length) {
    println(
      io.out,
      o.all ? 'No containers.' : 'No running containers (use --all to include stopped ones).',
    );
    return EXIT.ok;
  }
  const table = rows.map((r) =>
    [
      r.name,
      o.noTrunc ? r.id : r.id.slice(0, 12),
      r.image,
      r.state,
      r.networks.join(',') || '-',
      r.ports.join(', ') || '-',
      containmentCell(r),
    ].map((c) => safeText(c)),
  );
  const head = ['NAME', 'ID', 'IMAGE', 'STATE', 'NETWORKS', 'PORTS', 'CONTAINMENT'];
  const width = o.noTrunc ? Infinity : outputWidth(io, o);
  // Ports and image give way first; the containment column is what ps is for.
  for (const line of renderTable(head, table, width, [5, 2, 4, 0, 6])) println(io.out, line);
  return EXIT.ok;
}
