import { registry } from '../actions/index.js';
import { lockContainer, registeredCases } from '../containment/container-lock.js';
import { releaseCase, type ReleaseReport } from '../containment/release.js';
import { lockCase } from '../evidence/case-lock.js';
import { CirtError, FailureError, errorMessage } from '../errors.js';
import { actor, CaseStore } from '../evidence/case-store.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { caseFolder, resolveCase } from './case-ref.js';
import { connect, type AppEnv } from './env.js';

/**
 * Undoes a case's containment with the undo each action declares; every undo is recorded. The case
 * is checked before the runtime is contacted: a typo should not need an engine. `caseId` is
 * anything the case resolver takes (id, unique prefix, folder).
 */
export async function releaseById(
  caseId: string,
  env: AppEnv,
  runtime?: ContainerRuntime,
): Promise<{ report: ReleaseReport; caseDir: string }> {
  // An id, a unique prefix or a folder (app/case-ref.ts); release writes, so it needs the folder.
  const ref = resolveCase(caseId, env);
  const root = caseFolder(ref, 'cirt release');
  const casesDir = ref.casesDir;
  caseId = ref.id;
  // One writer per case, and release changes the container: it holds both locks (docs/locks.md).
  const caseLock = lockCase(casesDir, caseId, 'cirt release');
  try {
    return await releaseLocked(caseId, root, env, runtime);
  } finally {
    caseLock.release();
  }
}

async function releaseLocked(
  caseId: string,
  root: string,
  env: AppEnv,
  runtime?: ContainerRuntime,
): Promise<{ report: ReleaseReport; caseDir: string }> {
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
  const rt = runtime ?? (await connect(caseEngineEnv(env, store.caseInfo.engine.name)));
  const target = { id: store.caseInfo.target.id, name: store.caseInfo.target.name };
  const containerLock = lockContainer(env.env, {
    caseId: store.id,
    caseDir: root,
    container: target,
    engine: rt.info.address,
    command: 'cirt release',
  });
  try {
    const report = await releaseCase(rt, store, actor(), registry.list(), {
      otherRoots: registeredCases(env.env, rt.info.address, target.id),
    });
    return { report, caseDir: root };
  } finally {
    containerLock.release();
  }
}

/**
 * Release goes to the engine the case was made on: with neither --host nor --context, the name in
 * case.json (a docker context or an engine of cirt's config) picks it; `default` and cases from before
 * engines had names keep the usual resolution.
 */
function caseEngineEnv(env: AppEnv, name: string | undefined): AppEnv {
  if (env.host !== undefined || env.context !== undefined || !name || name === 'default')
    return env;
  return { ...env, context: name, contextFrom: "the case's case.json (engine.name)" };
}
