import fs from 'node:fs';
import path from 'node:path';
import { EXIT, UserError } from '../../errors.js';
import { actor, CASE_ID, CaseStore } from '../../evidence/case-store.js';
import { lockCase } from '../../evidence/case-lock.js';
import { archiveSealed, sealCase } from '../../evidence/seal.js';
import { loadSigningKey } from '../../evidence/sign.js';
import { humanBytes } from '../../util/format.js';
import { safeText } from '../../util/sanitize.js';
import { casesDirOf, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface SealCommandOptions extends GlobalOptions {
  caseId: string;
  signKey?: string;
  json?: boolean;
}

/**
 * `cirt seal --case <id>`: seals a case whose run did not (an interrupted or failed run, a crash),
 * or archives a sealed case whose archiving failed. Needs no engine.
 */
export async function sealCommand(o: SealCommandOptions, io: CommandIO): Promise<number> {
  if (!CASE_ID.test(o.caseId)) throw new UserError(`Case id "${safeText(o.caseId)}" is not allowed`, { hint: 'Use the folder name under cases/.' });
  const root = path.join(casesDirOf(o, io), o.caseId);
  if (!fs.existsSync(root)) throw new UserError(`No case ${o.caseId} in ${casesDirOf(o, io)}`, { hint: 'Check --cases-dir (or CIRT_CASES_DIR) and the case id.' });
  const signKey = o.signKey ? path.resolve(io.cwd, o.signKey) : undefined;
  if (signKey) loadSigningKey(signKey);
  // One writer at a time: two seals (or a seal beside a run) would write two chains into one custody.jsonl.
  const lock = lockCase(casesDirOf(o, io), o.caseId, 'cirt seal');
  try {
    return await sealLocked(o, io, root, signKey);
  } finally {
    lock.release();
  }
}

async function sealLocked(o: SealCommandOptions, io: CommandIO, root: string, signKey: string | undefined): Promise<number> {
  const store = await CaseStore.open(root);
  const say = (text: string, extra: Record<string, unknown>): number => {
    if (o.json) println(io.out, JSON.stringify({ caseId: store.id, caseDir: root, ...extra }));
    else println(io.out, text);
    return EXIT.ok;
  };

  if (await store.reopenUnsignedSeal(actor())) println(io.err, `cirt: case ${store.id} was marked sealed, but its seal stopped before signing: sealing it now`);
  if (store.sealed) {
    const bundle = `${root}.tar.gz`;
    if (fs.existsSync(bundle)) return say(`case ${store.id} is already sealed; bundle ${safeText(bundle)}`, { status: 'noop', bundle });
    if (!['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem'].every((f) => fs.existsSync(path.join(root, f)))) {
      throw new UserError(`case ${store.id} is marked sealed but its SHA256SUMS, signature or key is missing: sealing was interrupted`, {
        hint: `Run \`cirt verify ${root}\` to see what holds; the files are as collected, but the case cannot be signed again without changing it.`,
      });
    }
    const b = await archiveSealed(store);
    return say(`case ${store.id} was sealed but not archived; bundle ${safeText(b.path)} (${humanBytes(b.bytes)}) sha256 ${b.sha256}`, { status: 'archived', bundle: b });
  }

  if (signKey) store.signKeyPath = signKey;
  const r = await sealCase({
    store,
    actor: actor(),
    via: 'cirt seal',
    writeReport: (rel, text, meta) => store.writeArtifact(rel, text, { ...meta, action: 'evidence:seal', step: 'seal' }),
  });
  return say(
    [
      `sealed case ${store.id}: ${r.files} files in SHA256SUMS, signed with ${r.keySource === 'generated' ? 'a key made for this case (private half discarded)' : 'the given key'}`,
      `  public key fingerprint ${r.fingerprint}`,
      `  bundle ${safeText(r.bundle.path)} (${humanBytes(r.bundle.bytes)}) sha256 ${r.bundle.sha256}`,
      ...(r.gaps ? [`  ${r.gaps} gap(s) are listed in report.md (failed steps, incomplete artifacts)`] : []),
    ].join('\n'),
    { status: 'sealed', files: r.files, publicKeySha256: r.fingerprint, key: r.keySource, bundle: r.bundle, gaps: r.gaps },
  );
}
