import path from 'node:path';
import { Writable } from 'node:stream';
import { errorMessage } from '../../errors.js';
import type { VerifyReport } from '../../evidence/verify.js';
import { humanBytes } from '../../util/format.js';
import type { VerifyOutcome } from '../types.js';

/** The Case screen's lines for a verification report (the same checks `cirt verify` prints). */
export function describeReport(r: VerifyReport): VerifyOutcome {
  const c = r.checked;
  const mark = (ok: boolean): string => (ok ? '✔' : '✖');
  const lines: string[] = [];
  if (r.bundleSum) {
    const { expected, actual } = r.bundleSum;
    lines.push(`${mark(!expected || expected === actual)} bundle sha256 ${expected ? (expected === actual ? 'matches its .sha256' : 'does NOT match its .sha256') : '(no .sha256 beside it)'}`);
  }
  lines.push(`${mark(!r.problems.some((p) => p.file !== 'custody.jsonl'))} ${c.files} files, ${humanBytes(c.bytes)} against ${c.sumsLines} SHA256SUMS lines, ${c.manifestEntries} manifest entries`);
  lines.push(`${mark(!r.problems.some((p) => p.file === 'custody.jsonl'))} custody chain: ${c.custodyRecords} records`);
  lines.push(`${mark(r.signature.valid)} Ed25519 signature over SHA256SUMS ${r.signature.valid ? 'valid' : 'NOT valid'}`);
  for (const p of r.problems) lines.push(`✖ ${p.file}${p.line !== undefined ? ` line ${p.line}` : ''}: ${p.message}`);
  return { ok: r.ok, lines };
}

/** A writable that drops everything (a command's own reporter must not write over the screen). */
export const discard = (): Writable =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

/**
 * One-key verify from the Case screen: exactly what `cirt verify <bundle>` checks (it is called with
 * its output discarded), loaded on first use. An unreadable bundle is a failed verification.
 */
export async function verifyBundle(bundle: string): Promise<VerifyOutcome> {
  try {
    const { verifyCommand } = await import('../../cli/commands/verify.js');
    const io = { out: discard(), err: discard(), interactive: false, env: process.env, cwd: path.dirname(bundle) };
    const { report } = await verifyCommand({ input: bundle, json: true }, io);
    return describeReport(report);
  } catch (err) {
    return { ok: false, lines: [`✖ ${errorMessage(err)}`] };
  }
}
