import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Bundle } from '../evidence/archive.js';
import { lockCase } from '../evidence/case-lock.js';
import { actor, CaseStore } from '../evidence/case-store.js';
import { archiveSealed, sealCase, type SealResult } from '../evidence/seal.js';
import { encryptSealedBundle } from '../evidence/seal-encrypt.js';
import { applyCaseMeta, checkCaseMeta, type CaseMeta } from './case-meta.js';
import { applySealPlan, planSeal, type SealPlan } from './seal-options.js';
import { sealReport } from '../report/seal-report.js';
import { caseFolder, resolveCase } from './case-ref.js';
import { type AppEnv } from './env.js';

export type SealOutcome =
  | { status: 'noop'; caseId: string; caseDir: string; bundle: string }
  | { status: 'archived'; caseId: string; caseDir: string; bundle: Bundle }
  | { status: 'sealed'; caseId: string; caseDir: string; result: SealResult; reopened: boolean };

/**
 * Seals a case whose run did not (an interrupted or failed run, a crash), or archives a sealed case
 * whose archiving failed. Needs no runtime.
 */
export async function sealById(
  o: { caseId: string; signKey?: string; tsa?: string; encryptTo?: string[]; meta?: CaseMeta },
  env: AppEnv,
): Promise<SealOutcome> {
  // An id, a unique prefix or a folder (app/case-ref.ts); the seal needs the folder itself.
  const ref = resolveCase(o.caseId, env);
  const root = caseFolder(ref, 'cirt seal');
  const casesDir = ref.casesDir;
  const plan = planSeal({ signKey: o.signKey, tsa: o.tsa, encryptTo: o.encryptTo }, env);
  const meta = checkCaseMeta(o.meta ?? {});
  // One writer at a time: two seals (or a seal beside a run) would write two chains into one custody.jsonl.
  const lock = lockCase(casesDir, ref.id, 'cirt seal');
  try {
    return await sealLocked(root, plan, meta);
  } finally {
    lock.release();
  }
}

async function sealLocked(root: string, plan: SealPlan, meta: CaseMeta): Promise<SealOutcome> {
  const store = await CaseStore.open(root);
  applySealPlan(store, plan);
  const base = { caseId: store.id, caseDir: root };
  // A seal that stopped before signing left case.json saying "sealed": that case is sealed now.
  const reopened = await store.reopenUnsignedSeal(actor());

  if (store.sealed) {
    const bundle = `${root}.tar.gz`;
    if (fs.existsSync(bundle)) return { status: 'noop', ...base, bundle };
    if (
      !['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem'].every((f) => fs.existsSync(path.join(root, f)))
    ) {
      throw new UserError(
        `case ${store.id} is marked sealed but its SHA256SUMS, signature or key is missing: sealing was interrupted`,
        {
          hint: `Run \`cirt verify ${root}\` to see what holds; the files are as collected, but the case cannot be signed again without changing it.`,
        },
      );
    }
    const archived = await archiveSealed(store);
    await encryptSealedBundle(store, archived);
    return { status: 'archived', ...base, bundle: archived };
  }

  await applyCaseMeta(store, meta, actor(), 'cirt seal');
  const result = await sealCase({
    store,
    actor: actor(),
    via: 'cirt seal',
    report: sealReport,
    writeReport: (rel, text, meta) =>
      store.writeArtifact(rel, text, { ...meta, action: 'evidence:seal', step: 'seal' }),
  });
  return { status: 'sealed', ...base, result, reopened };
}
