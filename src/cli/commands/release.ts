import path from 'node:path';
import { releaseById } from '../../app/release.js';
import {
  describePlan,
  planReleaseOfCase,
  planReleaseOfContainer,
  type ReleasePlan,
} from '../../app/release-plan.js';
import type { ReleaseReport } from '../../containment/release.js';
import { EXIT, UserError } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { askYesNo } from '../confirm.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface ReleaseOptions extends GlobalOptions {
  /** A case id, unique prefix or folder (app/case-ref.ts). */
  caseId?: string;
  /** A container: every case in the cases folder holding containment on it is released. */
  target?: string;
  /** Release without asking (scripts). */
  yes?: boolean;
  json?: boolean;
  /** The question, for tests (default: the terminal, when there is one). */
  confirm?: (question: string) => Promise<boolean>;
}

const MARK = { ok: '✔', noop: '•', failed: '✖' } as const;

/**
 * `cirt release --case <id> | -t <container> [--yes]`: shows what will change (and the case's open
 * high findings), asks, then undoes the containment and records every undo. Nobody to ask and no
 * --yes is a usage error before anything is touched.
 */
export async function releaseCommand(
  o: ReleaseOptions,
  io: CommandIO,
): Promise<{ exitCode: number; report?: ReleaseReport; reports: ReleaseReport[] }> {
  const env = appEnv(o, io);
  if (Boolean(o.caseId) === Boolean(o.target))
    throw new UserError('Give the case to release (--case) or the container (-t), one of the two', {
      hint: '`cirt cases` lists the cases and the containment each still holds.',
    });
  const plans: ReleasePlan[] = o.caseId
    ? [planReleaseOfCase(o.caseId, env)]
    : planReleaseOfContainer(o.target as string, env);
  const changes = plans.some((p) => p.undo.length || p.kept.length);
  if (!o.yes && changes) {
    const text = plans.flatMap(describePlan).join('\n');
    const ask = o.confirm ?? (io.interactive ? (q: string) => askYesNo(q, io) : undefined);
    if (!ask)
      throw new UserError(`Release needs a confirmation, and nobody can answer here:\n${text}`, {
        hint: 'Run it on a terminal, or add --yes to release without asking (scripts). Nothing was changed.',
      });
    println(io.err, text);
    if (
      !(await ask(`Release ${plans.length > 1 ? `these ${plans.length} cases` : 'it'}? [y/N] `))
    ) {
      println(io.err, 'Not released: nothing was changed.');
      return { exitCode: EXIT.ok, reports: [] };
    }
  }
  const reports: ReleaseReport[] = [];
  let exitCode: number = EXIT.ok;
  for (const plan of plans) {
    const { report, caseDir } = await releaseById(plan.caseDir, env);
    reports.push(report);
    if (report.status === 'failed') exitCode = EXIT.failed;
    const heldBy = report.status === 'noop' ? plan.otherHolders : [];
    if (o.json)
      println(
        io.out,
        JSON.stringify({
          ...report,
          caseDir,
          exitCode: report.status === 'failed' ? EXIT.failed : EXIT.ok,
          ...(heldBy.length ? { heldBy } : {}),
        }),
      );
    else printReport(report, caseDir, heldBy, io);
  }
  return { exitCode, report: reports[0], reports };
}

function printReport(
  report: ReleaseReport,
  root: string,
  heldBy: ReleasePlan['otherHolders'],
  io: CommandIO,
): void {
  println(
    io.out,
    `Releasing case ${report.caseId}: container ${safeText(report.container.name)} (${report.container.id.slice(0, 12)})${report.sealed ? ' [case is sealed]' : ''}`,
  );
  for (const u of report.outcomes) {
    println(
      io.out,
      `  ${MARK[u.result]} ${u.action.replace(/^release:/, '')}: ${safeText(u.message)}`,
    );
    for (const w of u.warnings) println(io.out, `    ! ${safeText(w)}`);
    const ports = u.details?.ports as
      Record<string, { HostIp: string; HostPort: string }[] | null> | undefined;
    const published = Object.entries(ports ?? {}).flatMap(([p, b]) =>
      (b ?? []).map((x) => `${p} → ${x.HostIp}:${x.HostPort}`),
    );
    if (published.length) println(io.out, `    published again: ${safeText(published.join(', '))}`);
  }
  for (const w of report.warnings) println(io.out, `  ! ${safeText(w)}`);
  const words = { ok: 'RELEASED', noop: 'NOTHING TO RELEASE', failed: 'FAILED' }[report.status];
  const kept = report.kept
    .map((k) => `${k.measure} kept by case ${k.keptBy.join(', case ')}`)
    .join('; ');
  println(
    io.out,
    `${words}${kept ? ` (${safeText(kept)})` : ''}: recorded in ${safeText(path.join(root, report.custodyFile))}`,
  );
  // The wrong case: say which one holds the containment on this container.
  for (const h of heldBy)
    println(
      io.out,
      `  → case ${h.caseId} holds ${h.measures.join(', ')} on ${safeText(report.container.name)}: cirt release --case ${h.caseId}`,
    );
}
