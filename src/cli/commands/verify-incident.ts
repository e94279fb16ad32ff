import { verifyIncident, type IncidentVerifyReport } from '../../app/incident-verify.js';
import { EXIT } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/** `cirt verify INCIDENT`: exit 0 when the incident and every case in it verify, 1 naming each that does not. */
export async function verifyIncidentCommand(
  o: { input: string; pubkey?: string; json?: boolean },
  io: CommandIO,
): Promise<{ exitCode: number; report: IncidentVerifyReport }> {
  const started = Date.now();
  const report = await verifyIncident({ dir: o.input, pubkey: o.pubkey, cwd: io.cwd });
  const seconds = (Date.now() - started) / 1000;
  if (o.json) println(io.out, JSON.stringify({ input: o.input, seconds, ...report }));
  else print(o.input, report, seconds, io);
  return { exitCode: report.ok ? EXIT.ok : EXIT.failed, report };
}

function print(input: string, r: IncidentVerifyReport, seconds: number, io: CommandIO): void {
  const w = (s: string): void => println(io.out, s);
  const mark = (ok: boolean): string => (ok ? '✔' : '✖');
  const own = r.files.problems.filter((p) => !r.cases.some((c) => c.entry.bundle?.path === p.file));
  w(
    `cirt verify ${safeText(input)} (incident${r.incidentId ? ` ${safeText(r.incidentId)}` : ''}, ${r.cases.length} cases, ${seconds.toFixed(1)} s)`,
  );
  const key = r.files.signature.publicKeySha256
    ? `key ${r.files.signature.publicKeySha256.slice(0, 16)}…`
    : 'no usable key';
  w(
    `  ${mark(r.files.signature.valid)} Ed25519 signature over the incident's SHA256SUMS: ${r.files.signature.valid ? 'valid' : 'NOT valid'} (${key})`,
  );
  w(
    `  ${mark(!own.length)} incident.json and SHA256SUMS${own.length ? `: ${own.length} problem(s)` : ' hold'}`,
  );
  for (const p of own) w(`    ✖ ${safeText(p.file)}: ${safeText(p.message)}`);
  for (const c of r.cases) {
    const e = c.entry;
    w(
      `  ${mark(c.ok)} ${safeText(e.caseId ?? '(no case)')} — ${safeText(e.target?.name)} on ${safeText(e.engine?.name)}, run ${safeText(e.status)}${c.ok ? ', bundle verifies' : ''}`,
    );
    for (const p of c.problems.slice(0, 10)) w(`      ✖ ${p}`);
    if (c.problems.length > 10)
      w(`      … ${c.problems.length - 10} more (cirt verify ${safeText(e.bundle?.path ?? '')})`);
  }
  for (const u of r.unlisted)
    w(`  ✖ ${safeText(u)}: a bundle in the folder that incident.json does not list`);
  const bad = r.cases.filter((c) => !c.ok);
  if (r.ok)
    w(`VALID: the incident manifest is signed and intact, and all ${r.cases.length} cases verify.`);
  else
    w(
      `INVALID: ${[own.length ? `${own.length} problem(s) with the incident's own files` : '', bad.length ? `${bad.length} of ${r.cases.length} cases do not verify (${bad.map((b) => safeText(b.entry.caseId ?? b.entry.target?.name)).join(', ')})` : '', r.unlisted.length ? `${r.unlisted.length} unlisted bundle(s)` : ''].filter(Boolean).join('; ')}.`,
    );
}
