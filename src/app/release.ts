import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../actions/index.js';
import { releaseCase, type ReleaseReport } from '../containment/release.js';
import { CirtError, FailureError, UserError, errorMessage } from '../errors.js';
import { actor, CASE_ID, CaseStore } from '../evidence/case-store.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';
import { casesDirOf, connect, type AppEnv } from './env.js';

/**
 * Undoes a case's containment with the undo each action declares; every undo is recorded. The case
 * is checked before the runtime is contacted: a typo should not need an engine.
 */
export async function releaseById(caseId: string, env: AppEnv, runtime?: ContainerRuntime): Promise<{ report: ReleaseReport; caseDir: string }> {
  const casesDir = casesDirOf(env);
  if (!CASE_ID.test(caseId)) {
    throw new UserError(`Case id "${safeText(caseId)}" is not allowed`, { hint: 'Use the id of a folder under the cases directory.' });
  }
  const root = path.resolve(casesDir, caseId);
  if (!fs.existsSync(path.join(root, 'case.json'))) {
    throw new UserError(`No case ${caseId} in ${safeText(path.resolve(casesDir))}`, {
      hint: `List the cases with \`ls ${safeText(path.resolve(casesDir))}\`, or point --cases-dir / CIRT_CASES_DIR at the folder holding it.`,
    });
  }
  let store: CaseStore;
  try {
    store = await CaseStore.open(root);
  } catch (err) {
    if (err instanceof CirtError) throw err;
    throw new FailureError(`Case ${caseId} cannot be opened: ${errorMessage(err)}`, {
      hint: 'Its case.json or custody log is damaged; nothing was changed. Compare the folder with its sealed bundle.',
      cause: err,
    });
  }
  const rt = runtime ?? (await connect(env));
  return { report: await releaseCase(rt, store, actor(), registry.list()), caseDir: root };
}
