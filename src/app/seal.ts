import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Bundle } from '../evidence/archive.js';
import { lockCase } from '../evidence/case-lock.js';
import { actor, CaseStore } from '../evidence/case-store.js';
import { archiveSealed, sealCase, type SealResult } from '../evidence/seal.js';
import { loadSigningKey } from '../evidence/sign.js';
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
  o: { caseId: string; signKey?: string },
  env: AppEnv,
): Promise<SealOutcome> {
  // An id, a unique prefix or a folder (app/case-ref.ts); the seal needs the folder itself.
  const ref = resolveCase(o.caseId, env);
  const root = caseFolder(ref, 'cirt seal');
  const casesDir = ref.casesDir;
  const signKey = o.signKey ? path.resolve(env.cwd, o.signKey) : undefined;
  if (signKey) loadSigningKey(signKey);
  // One writer at a time: two seals (or a seal beside a run) would write two chains into one custody.jsonl.
  const lock = lockCase(casesDir, ref.id, 'cirt seal');
  try {
    return await sealLocked(root, signKey);
  } finally {
    lock.release();
  }
}

async function sealLocked(root: string, signKey: string | undefined): Promise<SealOutcome> {
  const store = await CaseStore.open(root);
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
    return { status: 'archived', ...base, bundle: await archiveSealed(store) };
  }

  if (signKey) store.signKeyPath = signKey;
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
