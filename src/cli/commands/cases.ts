import { listCases, type CaseRow } from '../../app/cases.js';
import { EXIT } from '../../errors.js';
import { SEVERITIES } from '../../findings/rules.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';
import { outputWidth, renderTable } from '../width.js';

export interface CasesOptions extends GlobalOptions {
  json?: boolean;
  wide?: boolean;
  columns?: number;
}

/** `critical 1, high 2`; `-` when findings were not evaluated. */
export function findingsCell(r: CaseRow): string {
  if (!r.findings) return '-';
  const parts = SEVERITIES.filter((s) => r.findings?.[s]).map((s) => `${s} ${r.findings?.[s]}`);
  return parts.join(', ') || 'none';
}

/** What the STATUS column says: the run's status, and plainly when the case holds nothing. */
export function statusCell(r: CaseRow): string {
  return r.empty ? `${r.status}, empty (nothing collected)` : r.status;
}

/**
 * `cirt cases [--json] [--wide]`: every case in the cases folder, offline (case.json, custody,
 * findings.json): no engine needed. The case folder is someone's evidence: every cell is sanitised.
 */
export async function casesCommand(o: CasesOptions, io: CommandIO): Promise<number> {
  const { casesDir, rows } = listCases(appEnv(o, io));
  if (o.json) {
    println(io.out, JSON.stringify({ casesDir, cases: rows }));
    return EXIT.ok;
  }
  if (!rows.length) {
    println(io.out, `No cases in ${safeText(casesDir)}.`);
    return EXIT.ok;
  }
  const head = ['ID', 'TARGET', 'ENGINE', 'STATUS', 'SEALED', 'BUNDLE', 'CONTAINMENT', 'FINDINGS'];
  const table = rows.map((r) =>
    [
      r.id,
      r.target ? `${r.target.name} (${r.target.id.slice(0, 12)})` : '-',
      r.engine ?? '-',
      statusCell(r),
      r.sealed ? 'yes' : 'no',
      r.bundle ? 'yes' : '-',
      r.containment.map((c) => c.label).join(', ') || '-',
      findingsCell(r),
    ].map((c) => safeText(c)),
  );
  // Engine and target give way first: the id and what is still in force matter most.
  for (const line of renderTable(head, table, outputWidth(io, o), [2, 1, 7, 6]))
    println(io.out, line);
  for (const r of rows)
    if (r.problem) println(io.err, `cirt: warning: case ${safeText(r.id)}: ${safeText(r.problem)}`);
  const empty = rows.filter((r) => r.empty).length;
  const holding = rows.filter((r) => r.containment.length).length;
  println(
    io.err,
    `${rows.length} case${rows.length === 1 ? '' : 's'} in ${safeText(casesDir)}${holding ? `; ${holding} still hold${holding === 1 ? 's' : ''} containment (cirt release)` : ''}${empty ? `; ${empty} empty (the run stopped before collecting anything)` : ''}`,
  );
  return EXIT.ok;
}
