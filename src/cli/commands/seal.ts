import type { CaseMeta } from '../../app/case-meta.js';
import { sealById } from '../../app/seal.js';
import type { KeySource } from '../../evidence/types.js';
import { EXIT } from '../../errors.js';
import { humanBytes } from '../../util/format.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface SealCommandOptions extends GlobalOptions {
  caseId: string;
  signKey?: string;
  tsa?: string;
  encryptTo?: string[];
  meta?: CaseMeta;
  json?: boolean;
}

/**
 * `cirt seal --case <id>`: seals a case whose run did not (an interrupted or failed run, a crash),
 * or archives a sealed case whose archiving failed. Needs no engine.
 */
export async function sealCommand(o: SealCommandOptions, io: CommandIO): Promise<number> {
  const s = await sealById(
    { caseId: o.caseId, signKey: o.signKey, tsa: o.tsa, encryptTo: o.encryptTo, meta: o.meta },
    appEnv(o, io),
  );
  if (s.status === 'sealed' && s.reopened)
    println(
      io.err,
      `cirt: case ${s.caseId} was marked sealed, but its seal stopped before signing: it was sealed now`,
    );
  const say = (text: string, extra: Record<string, unknown>): number => {
    if (o.json) println(io.out, JSON.stringify({ caseId: s.caseId, caseDir: s.caseDir, ...extra }));
    else println(io.out, text);
    return EXIT.ok;
  };
  if (s.status === 'noop')
    return say(`case ${s.caseId} is already sealed; bundle ${safeText(s.bundle)}`, {
      status: 'noop',
      bundle: s.bundle,
    });
  if (s.status === 'archived') {
    const b = s.bundle;
    return say(
      `case ${s.caseId} was sealed but not archived; bundle ${safeText(b.path)} (${humanBytes(b.bytes)}) sha256 ${b.sha256}`,
      { status: 'archived', bundle: b },
    );
  }
  const r = s.result;
  return say(
    [
      `sealed case ${s.caseId}: ${r.files} files in SHA256SUMS, signed with ${KEY_WORDS[r.keySource]}`,
      `  public key fingerprint ${r.fingerprint}`,
      r.timestamp
        ? `  timestamped by ${safeText(r.timestamp.tsa)} at ${r.timestamp.genTime} (SHA256SUMS.tsr)`
        : '  no trusted timestamp: the times in the case are the host’s clock (use --tsa URL)',
      `  bundle ${safeText(r.bundle.path)} (${humanBytes(r.bundle.bytes)}) sha256 ${r.bundle.sha256}`,
      ...(r.encrypted
        ? [
            `  encrypted to ${r.encrypted.recipients.length} recipient(s): ${safeText(r.encrypted.path)} sha256 ${r.encrypted.sha256}`,
          ]
        : []),
      ...(r.gaps
        ? [`  ${r.gaps} gap(s) are listed in report.md (failed steps, incomplete artifacts)`]
        : []),
    ].join('\n'),
    {
      status: 'sealed',
      files: r.files,
      publicKeySha256: r.fingerprint,
      key: r.keySource,
      bundle: r.bundle,
      gaps: r.gaps,
      ...(r.timestamp ? { timestamp: r.timestamp } : {}),
      ...(r.encrypted ? { encrypted: r.encrypted } : {}),
    },
  );
}

/** How each kind of signing key is named to the responder. */
export const KEY_WORDS: Record<KeySource, string> = {
  generated:
    'a key made for this case (private half discarded: anyone can re-sign an edited copy; `cirt keys init` makes a key of your own)',
  provided: 'the key given with --sign-key',
  kept: 'your key from `cirt keys init`',
};
