import { connect } from '../../app/env.js';
import { resolveEngines } from '../../app/engines.js';
import { inventoryEngines } from '../../app/engines-inventory.js';
import { inventory, type InventoryRow } from '../../app/inventory.js';
import { matchOnEngine } from '../../app/targets.js';
import { EXIT } from '../../errors.js';
import { parseFilters } from '../../runtime/filters.js';
import { clip, safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface PsOptions extends GlobalOptions {
  json?: boolean;
  all?: boolean;
  /** `--filter key=value` in the docker CLI's syntax (src/runtime/filters.ts), ANDed across keys. */
  filter?: string[];
  /** `all` or `a,b`: list several engines at once, with an ENGINE column. */
  engines?: string;
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

/**
 * `cirt ps [--all] [--json] [--engines all|a,b]`. Every name comes from the engine (and maybe an
 * attacker): sanitised. With --engines, an engine that does not answer is named on stderr, the
 * others are still listed, and the exit code is 1 (the list is incomplete).
 */
export async function psCommand(o: PsOptions, io: CommandIO): Promise<number> {
  // A bad filter is a usage error found before the engine is asked anything.
  const filter = o.filter?.length ? parseFilters(o.filter) : undefined;
  const env = appEnv(o, io);
  let rows: InventoryRow[];
  let failed = 0;
  if (o.engines !== undefined) {
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
    rows = await inventory(runtime, Boolean(o.all), listed);
  }
  const code = failed ? EXIT.failed : EXIT.ok;
  if (o.json) {
    println(io.out, JSON.stringify(rows));
    return code;
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
    return code;
  }
  const many = o.engines !== undefined;
  const table = rows.map((r) => [
    ...(many ? [clip(r.engine, 24)] : []),
    clip(r.name, 40),
    r.id.slice(0, 12),
    clip(r.image, 30),
    r.state,
    clip(r.networks.join(',') || '-', 40),
    containment(r),
  ]);
  const head = [
    ...(many ? ['ENGINE'] : []),
    'NAME',
    'ID',
    'IMAGE',
    'STATE',
    'NETWORKS',
    'CONTAINMENT',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  for (const row of [head, ...table])
    println(
      io.out,
      row
        .map((cell, i) => cell.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
  return code;
}
