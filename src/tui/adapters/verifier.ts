import path from 'node:path';
import { errorMessage } from '../../errors.js';
import type { VerifyReport } from '../../evidence/verify.js';
import { signatureVerdict, timestampVerdict } from '../../evidence/verify-text.js';
import { humanBytes } from '../../util/format.js';
import type { VerifyOutcome } from '../types.js';

/** The Case screen's lines for a verification report (the same checks `cirt verify` prints). */
export function describeReport(r: VerifyReport): VerifyOutcome {
  const c = r.checked;
  const mark = (ok: boolean): string => (ok ? '✔' : '✖');
  const lines: string[] = [];
  if (r.bundleSum) {
    const { expected, actual } = r.bundleSum;
    lines.push(
      `${mark(!expected || expected === actual)} bundle sha256 ${expected ? (expected === actual ? 'matches its .sha256' : 'does NOT match its .sha256') : '(no .sha256 beside it)'}`,
    );
  }
  lines.push(
    `${mark(!r.problems.some((p) => p.file !== 'custody.jsonl'))} ${c.files} files, ${humanBytes(c.bytes)} against ${c.sumsLines} SHA256SUMS lines, ${c.manifestEntries} manifest entries`,
  );
  lines.push(
    `${mark(!r.problems.some((p) => p.file === 'custody.jsonl'))} custody chain: ${c.custodyRecords} records`,
  );
  const sig = signatureVerdict(r);
  lines.push(`${mark(sig.ok)} ${sig.lines[0]}`, ...sig.lines.slice(1));
  const ts = timestampVerdict(r);
  lines.push(`${r.timestamp ? mark(ts.ok) : '•'} ${ts.line}`);
  for (const p of r.problems)
    lines.push(`✖ ${p.file}${p.line !== undefined ? ` line ${p.line}` : ''}: ${p.message}`);
  return { ok: r.ok, lines };
}

/**
 * One-key verify from the Case screen: exactly what `cirt verify <bundle>` checks (the same app
 * call), loaded on first use. An unreadable bundle is a failed verification.
 */
export async function verifyBundle(bundle: string): Promise<VerifyOutcome> {
  try {
    const { verifyInput } = await import('../../app/verify.js');
    const { report } = await verifyInput({ input: bundle, cwd: path.dirname(bundle) });
    return describeReport(report);
  } catch (err) {
    return { ok: false, lines: [`✖ ${errorMessage(err)}`] };
  }
}
