import { verifyInput } from '../../app/verify.js';
import { EXIT } from '../../errors.js';
import type { VerifyReport } from '../../evidence/verify.js';
import { signatureVerdict, timestampVerdict } from '../../evidence/verify-text.js';
import { humanBytes } from '../../util/format.js';
import { safeText } from '../../util/sanitize.js';
import fs from 'node:fs';
import path from 'node:path';
import { readablePath, resolveCase } from '../../app/case-ref.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';

export interface VerifyOptions extends GlobalOptions {
  /** A bundle or case folder path, or a case id / unique prefix (its bundle first, else its folder). */
  input: string;
  pubkey?: string;
  trustedKeys?: string;
  tsaCa?: string;
  json?: boolean;
}

/**
 * `cirt verify <bundle.tar.gz | case-dir> [--trusted-keys FILE] [--pubkey PEM] [--json]`: offline, no engine.
 * Exit 0 valid, 1 tampered or invalid, 2 unreadable input (missing, not gzip, not a case).
 */
export async function verifyCommand(
  o: VerifyOptions,
  io: CommandIO,
): Promise<{ exitCode: number; report: VerifyReport }> {
  // A path that exists (or looks like one) is verified as given; a bare id is looked up.
  const asPath = fs.existsSync(path.resolve(io.cwd, o.input)) || o.input.includes('/');
  const input = asPath ? o.input : readablePath(resolveCase(o.input, appEnv(o, io)), 'bundle');
  const { report, seconds } = await verifyInput({
    input,
    pubkey: o.pubkey,
    trustedKeys: o.trustedKeys,
    tsaCa: o.tsaCa,
    cwd: io.cwd,
  });
  if (o.json) println(io.out, JSON.stringify({ input, seconds, ...report }));
  else printReport({ ...o, input }, report, seconds, io);
  return { exitCode: report.ok ? EXIT.ok : EXIT.failed, report };
}

function printReport(o: VerifyOptions, r: VerifyReport, seconds: number, io: CommandIO): void {
  const w = (s: string): void => println(io.out, s);
  const mark = (ok: boolean): string => (ok ? '✔' : '✖');
  const c = r.checked;
  w(
    `cirt verify ${safeText(o.input)} (${r.kind === 'bundle' ? 'bundle' : 'case folder'}${r.caseId ? `, case ${safeText(r.caseId)}` : ''})`,
  );
  if (r.bundleSum) {
    const { expected, actual } = r.bundleSum;
    const note = !expected
      ? 'no usable .sha256 beside it'
      : expected === actual
        ? 'matches the .sha256 beside it'
        : 'does NOT match the .sha256 beside it';
    w(`  ${mark(!expected || expected === actual)} bundle sha256 ${actual} (${note})`);
  }
  const fileProblems = r.problems.filter(
    (p) =>
      ![
        'custody.jsonl',
        'custody.post-seal.jsonl',
        'SHA256SUMS.sig',
        'SHA256SUMS.tsr',
        'pub.pem',
      ].includes(p.file) || p.line === undefined,
  );
  w(
    `  ${mark(!fileProblems.length)} ${c.files} files, ${humanBytes(c.bytes)} hashed in ${seconds.toFixed(1)} s against ${c.sumsLines} SHA256SUMS lines and ${c.manifestEntries} manifest entries`,
  );
  w(
    `  ${mark(!r.problems.some((p) => p.file === 'custody.jsonl'))} custody chain: ${c.custodyRecords} records`,
  );
  if (c.postSealRecords || r.problems.some((p) => p.file === 'custody.post-seal.jsonl')) {
    w(
      `  • custody.post-seal.jsonl: ${c.postSealRecords} record(s) made after sealing — not part of the sealed evidence, chained to its last record`,
    );
  }
  const sig = signatureVerdict(r);
  w(`  ${mark(sig.ok)} ${sig.lines[0]}`);
  for (const l of sig.lines.slice(1)) w(`  ${l}`);
  const ts = timestampVerdict(r);
  w(`  ${r.timestamp ? mark(ts.ok) : ts.ok ? '•' : '✖'} ${ts.line}`);
  if (r.ok) {
    w(
      `VALID: every file matches SHA256SUMS and the manifest, the custody chain is intact, the signature holds${r.signature.signer.status === 'trusted' ? ` and was made by "${safeText(r.signature.signer.name)}"` : ' (signer not checked against a trusted key)'}.`,
    );
    return;
  }
  w(`INVALID: ${r.problems.length} problem(s):`);
  for (const p of r.problems)
    w(
      `  ✖ ${safeText(p.file)}${p.line !== undefined ? ` line ${p.line}` : ''}: ${safeText(p.message)}`,
    );
}
