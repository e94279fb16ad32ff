import path from 'node:path';
import { releaseById } from '../../app/release.js';
import type { ReleaseReport } from '../../containment/release.js';
import { EXIT } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface ReleaseOptions extends GlobalOptions {
  caseId: string;
  json?: boolean;
}

const MARK = { ok: '✔', noop: '•', failed: '✖' } as const;

/** `cirt release --case <id>`: undoes the case's containment and records every undo. */
export async function releaseCommand(
  o: ReleaseOptions,
  io: CommandIO,
): Promise<{ exitCode: number; report: ReleaseReport }> {
  const { report, caseDir: root } = await releaseById(o.caseId, appEnv(o, io));
  const exitCode = report.status === 'failed' ? EXIT.failed : EXIT.ok;
  if (o.json) {
    println(io.out, JSON.stringify({ ...report, caseDir: root, exitCode }));
    return { exitCode, report };
  }
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
  return { exitCode, report };
}
