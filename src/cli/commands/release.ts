import fs from 'node:fs';
import path from 'node:path';
import { releaseCase, type ReleaseReport } from '../../containment/release.js';
import { connectEngine } from '../../docker/connection.js';
import { CirtError, EXIT, FailureError, UserError, errorMessage } from '../../errors.js';
import { registeredCases, lockContainer } from '../../containment/container-lock.js';
import { lockCase } from '../../evidence/case-lock.js';
import { actor, CASE_ID, CaseStore } from '../../evidence/case-store.js';
import { safeText } from '../../util/sanitize.js';
import { casesDirOf, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface ReleaseOptions extends GlobalOptions {
  caseId: string;
  json?: boolean;
}

const MARK = { ok: '✔', noop: '•', failed: '✖' } as const;

/** `cirt release --case <id>`: undoes the case's containment and records every undo. */
export async function releaseCommand(o: ReleaseOptions, io: CommandIO): Promise<{ exitCode: number; report: ReleaseReport }> {
  const casesDir = casesDirOf(o, io);
  if (!CASE_ID.test(o.caseId)) {
    throw new UserError(`Case id "${safeText(o.caseId)}" is not allowed`, { hint: 'Use the id of a folder under the cases directory.' });
  }
  const root = path.resolve(casesDir, o.caseId);
  if (!fs.existsSync(path.join(root, 'case.json'))) {
    throw new UserError(`No case ${o.caseId} in ${safeText(path.resolve(casesDir))}`, {
      hint: `List the cases with \`ls ${safeText(path.resolve(casesDir))}\`, or point --cases-dir / CIRT_CASES_DIR at the folder holding it.`,
    });
  }
  // One writer per case, and release changes the container: it holds both locks (docs/locks.md).
  const caseLock = lockCase(casesDir, o.caseId, 'cirt release');
  try {
    return await releaseLocked(o, io, root, casesDir);
  } finally {
    caseLock.release();
  }
}

async function releaseLocked(o: ReleaseOptions, io: CommandIO, root: string, casesDir: string): Promise<{ exitCode: number; report: ReleaseReport }> {
  // The case is checked before the engine is contacted: a typo should not need an engine.
  let store: CaseStore;
  try {
    store = await CaseStore.open(root);
  } catch (err) {
    if (err instanceof CirtError) throw err;
    throw new FailureError(`Case ${o.caseId} cannot be opened: ${errorMessage(err)}`, {
      hint: 'Its case.json or custody log is damaged; nothing was changed. Compare the folder with its sealed bundle.',
      cause: err,
    });
  }
  const engine = await connectEngine(o.host, io.env);
  const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
  const containerLock = lockContainer(io.env, { caseId: store.id, caseDir: root, container: target, engine: engine.info.address, command: 'cirt release' });
  let report: ReleaseReport;
  try {
    report = await releaseCase(engine.docker, store, actor(), { otherRoots: registeredCases(io.env, engine.info.address, target.id) });
  } finally {
    containerLock.release();
  }
  const exitCode = report.status === 'failed' ? EXIT.failed : EXIT.ok;
  if (o.json) {
    println(io.out, JSON.stringify({ ...report, caseDir: root, exitCode }));
    return { exitCode, report };
  }
  println(io.out, `Releasing case ${report.caseId}: container ${safeText(report.container.name)} (${report.container.id.slice(0, 12)})${report.sealed ? ' [case is sealed]' : ''}`);
  for (const u of report.outcomes) {
    println(io.out, `  ${MARK[u.result]} ${u.action.replace(/^release:/, '')}: ${safeText(u.message)}`);
    for (const w of u.warnings) println(io.out, `    ! ${safeText(w)}`);
    const ports = u.details?.ports as Record<string, { HostIp: string; HostPort: string }[] | null> | undefined;
    const published = Object.entries(ports ?? {}).flatMap(([p, b]) => (b ?? []).map((x) => `${p} → ${x.HostIp}:${x.HostPort}`));
    if (published.length) println(io.out, `    published again: ${safeText(published.join(', '))}`);
  }
  for (const w of report.warnings) println(io.out, `  ! ${safeText(w)}`);
  const words = { ok: 'RELEASED', noop: 'NOTHING TO RELEASE', failed: 'FAILED' }[report.status];
  const kept = report.kept.map((k) => `${k.measure} kept by case ${k.keptBy.join(', case ')}`).join('; ');
  println(io.out, `${words}${kept ? ` (${safeText(kept)})` : ''}: recorded in ${safeText(path.join(root, report.custodyFile))}`);
  return { exitCode, report };
}
