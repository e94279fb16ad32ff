import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../../actions/index.js';
import { releaseCase, type ReleaseReport } from '../../containment/release.js';
import { connectRuntime } from '../../docker/connection.js';
import { CirtError, EXIT, FailureError, UserError, errorMessage } from '../../errors.js';
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
  const runtime = await connectRuntime(o.host, io.env);
  const report = await releaseCase(runtime, store, actor(), registry.list());
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
  const words = { ok: 'RELEASED', noop: 'NOTHING TO RELEASE', failed: 'FAILED' }[report.status];
  println(io.out, `${words}: recorded in ${safeText(path.join(root, report.custodyFile))}`);
  return { exitCode, report };
}
