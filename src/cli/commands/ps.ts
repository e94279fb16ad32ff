import { heldMeasures } from '../../app/cases.js';
import { connect } from '../../app/env.js';
import { resolveEngines } from '../../app/engines.js';
import { inventoryEngines } from '../../app/engines-inventory.js';
import { inventory, type InventoryRow } from '../../app/inventory.js';
import { matchOnEngine } from '../../app/targets.js';
import { EXIT, UserError } from '../../errors.js';
import { parseFilters } from '../../runtime/filters.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';
import { outputWidth, renderTable } from '../width.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
  /** `--filter key=value` in the docker CLI's syntax (src/runtime/filters.ts), ANDed across keys. */
  filter?: string[];
  /** `all` or `a,b`: list several engines at once, with an ENGINE column. */
  engines?: string;
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

/**
 * `paused · network isolation (case A) · egress restricted (case B)`; empty when nothing is in
 * force. Egress restriction is read from the container's namespace (local engines only).
 */
export function containmentCell(r: InventoryRow): string {
  const parts = r.containment.map((c) =>
    c.cases.length ? `${c.measure} (case ${c.cases.join(', case ')})` : c.measure,
  );
  for (const c of r.egress ?? []) parts.push(`egress restricted (case ${c})`);
  return parts.join(' · ');
}

/**
 * `cirt ps [--all] [--json] [-q] [--no-trunc] [--format json|table] [--filter k=v] [--engines
 * all|a,b]`. Every name comes from the engine (and maybe an attacker): sanitised. The CONTAINMENT
 * column is every measure in force: what the engine shows (paused, quarantined, egress rules) and
 * what the cases folder's custody says is still held (restart policy, limits). With --engines, an
 * engine that does not answer is named on stderr, the others are still listed, and the exit code is
 * 1 (the list is incomplete).
 */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  const format = o.format ?? (o.json ? 'array' : 'table');
  if (!['table', 'json', 'array'].includes(format))
    throw new UserError(`Unknown --format "${safeText(format)}"`, { hint: 'Use table or json.' });
  // A bad filter is a usage error found before the engine is asked anything.
  const filter = o.filter?.length ? parseFilters(o.filter) : undefined;
  const env = appEnv(o, io);
  let rows: InventoryRow[];
  let failed = 0;
  const many = o.engines !== undefined;
  if (many) {
    const refs = await resolveEngines(
      { engines: o.engines, host: o.host, context: o.context, config: o.config },
      env,
    );
    const r = await inventoryEngines(refs, Boolean(o.all), filter);
    rows = r.rows;
    failed = r.failures.length;
    for (const f of r.failures)
      println(io.err, `cirt: engine ${safeText(f.engine)} not listed: ${safeText(f.message)}`);
  } else {
    const runtime = await connect(env);
    const listed = filter ? await matchOnEngine(runtime, filter, Boolean(o.all)) : undefined;
    rows = await inventory(runtime, Boolean(o.all), listed, heldMeasures(env));
  }
  const code = failed ? EXIT.failed : EXIT.ok;
  if (o.quiet) {
    for (const r of rows) println(io.out, o.noTrunc ? r.id : r.id.slice(0, 12));
    return code;
  }
  if (format === 'array') {
    println(io.out, JSON.stringify(rows));
    return code;
  }
  if (format === 'json') {
    for (const r of rows) println(io.out, JSON.stringify(r));
    return code;
  }
  if (!rows.length) {
    println(
      io.out,
      o.all ? 'No containers.' : 'No running containers (use --all to include stopped ones).',
    );
    return code;
  }
  const table = rows.map((r) =>
    [
      ...(many ? [r.engine] : []),
      r.name,
      o.noTrunc ? r.id : r.id.slice(0, 12),
      r.image,
      r.state,
      r.networks.join(',') || '-',
      r.ports.join(', ') || '-',
      containmentCell(r),
    ].map((c) => safeText(c)),
  );
  const head = [
    ...(many ? ['ENGINE'] : []),
    'NAME',
    'ID',
    'IMAGE',
    'STATE',
    'NETWORKS',
    'PORTS',
    'CONTAINMENT',
  ];
  const width = o.noTrunc ? Infinity : outputWidth(io, o);
  // Ports and image give way first; the containment column is what ps is for.
  const giveWay = [5, 2, 4, 0, 6].map((i) => i + (many ? 1 : 0));
  for (const line of renderTable(head, table, width, giveWay)) println(io.out, line);
  return code;
}
