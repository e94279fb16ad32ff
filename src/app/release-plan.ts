import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { caseFolder, resolveCase } from './case-ref.js';
import { caseRow, casesHolding, listCases, type CaseRow } from './cases.js';
import type { AppEnv } from './env.js';

/** What releasing one case will change, read from the case folders before anything is touched. */
export interface ReleasePlan {
  caseId: string;
  caseDir: string;
  container: { id: string; name: string };
  sealed: boolean;
  /** Measures this case holds that release will undo (nobody else holds them). */
  undo: string[];
  /** Measures this case holds that stay in force, and the other open cases that keep them. */
  kept: { measure: string; by: string[] }[];
  /** Other cases on the same container that hold containment (the "right" case when this holds none). */
  otherHolders: { caseId: string; measures: string[] }[];
  /** Open findings of this case at high or critical severity. */
  severe: { critical: number; high: number };
}

function planFor(row: CaseRow, all: readonly CaseRow[]): ReleasePlan {
  const target = row.target ?? { id: '', name: '' };
  const others = all.filter((r) => r.id !== row.id && r.target?.id === target.id);
  const holdersOf = (key: string): string[] =>
    others.filter((o) => o.containment.some((c) => c.key === key)).map((o) => o.id);
  const undo: string[] = [];
  const kept: ReleasePlan['kept'] = [];
  for (const c of row.containment) {
    const by = holdersOf(c.key);
    if (by.length) kept.push({ measure: c.label, by });
    else undo.push(c.label);
  }
  return {
    caseId: row.id,
    caseDir: row.folder ?? '',
    container: target,
    sealed: row.sealed,
    undo,
    kept,
    otherHolders: others
      .filter((o) => o.containment.length)
      .map((o) => ({ caseId: o.id, measures: o.containment.map((c) => c.label) })),
    severe: { critical: row.findings?.critical ?? 0, high: row.findings?.high ?? 0 },
  };
}

/** The plan for releasing the case `ref` names (id, prefix, folder): offline, nothing touched. */
export function planReleaseOfCase(ref: string, env: AppEnv): ReleasePlan {
  const r = resolveCase(ref, env);
  caseFolder(r, 'cirt release');
  const row = caseRow(r);
  if (!row.target)
    throw new UserError(
      `Case ${r.id} cannot be released: ${safeText(row.problem ?? 'its case.json names no container')}`,
      {
        hint: 'Restore its case.json from the sealed bundle, or undo the containment by hand.',
      },
    );
  return planFor(row, listCases({ ...env, casesDir: r.casesDir }).rows);
}

/**
 * The plans for every case in the cases folder whose custody still holds containment on
 * `container` (its name, full id or an id prefix of at least 4 characters, as case.json records it).
 */
export function planReleaseOfContainer(container: string, env: AppEnv): ReleasePlan[] {
  const { casesDir, rows } = listCases(env);
  const holding = casesHolding(rows, container);
  if (!holding.length) {
    const about = rows.filter(
      (r) => r.target && (r.target.name === container || r.target.id.startsWith(container)),
    );
    throw new UserError(
      `No case in ${safeText(casesDir)} holds containment on ${safeText(container)}`,
      {
        hint: about.length
          ? `Its cases (${about.map((r) => r.id).join(', ')}) have released everything; \`cirt ps\` shows what is in force on the engine now.`
          : `No case there is about that container: check the name, or point --cases-dir at the folder of the case that contained it (\`cirt cases\` lists them).`,
      },
    );
  }
  return holding.map((row) => planFor(row, rows));
}

/** The confirmation text: what will change, what stays, and what the findings say. */
export function describePlan(p: ReleasePlan): string[] {
  const lines = [
    `Release case ${p.caseId}: container ${safeText(p.container.name)} (${p.container.id.slice(0, 12)})${p.sealed ? ' [sealed case: recorded in custody.post-seal.jsonl]' : ''}`,
  ];
  if (p.undo.length) lines.push(`  will undo: ${p.undo.join(', ')}`);
  for (const k of p.kept)
    lines.push(`  stays in force: ${k.measure} (also held by case ${k.by.join(', case ')})`);
  if (!p.undo.length && !p.kept.length) {
    lines.push('  this case holds no containment: nothing will change');
    for (const o of p.otherHolders)
      lines.push(
        `  case ${o.caseId} holds ${o.measures.join(', ')} on this container: \`cirt release --case ${o.caseId}\``,
      );
  }
  const { critical, high } = p.severe;
  if (critical + high)
    lines.push(
      `  ! the case has ${[critical ? `${critical} critical` : '', high ? `${high} high` : ''].filter(Boolean).join(' and ')} finding(s) open: the container may still be compromised (\`cirt findings ${p.caseId}\`)`,
    );
  return lines;
}
