import { isContainment } from '../runner/outcome.js';
import { humanBytes } from '../util/format.js';
import { clip } from '../util/sanitize.js';
import type { FindingsDoc } from '../findings/types.js';
import { renderFindingsMarkdown } from '../findings/render.js';
import type { SealFacts, UnlistedFile } from '../evidence/seal.js';
import type { CustodyRecord } from '../evidence/custody.js';
import type { CaseInfo } from '../evidence/types.js';

export type { UnlistedFile };

/** Everything report.md and report.html show: what the seal knows, and the findings. */
export interface ReportInput extends Omit<SealFacts, 'root'> {
  /** findings.json, when evidence:findings ran (src/report/findings-doc.ts reads it). */
  findings?: FindingsDoc;
}

/** One thing the case lacks, for the "incomplete" section. */
export interface Gap {
  what: string;
  why: string;
}

/** Custody results that mean something did not happen as planned. */
export const BAD_RESULTS = new Set([
  'failed',
  'interrupted',
  'refused',
  'declined',
  'partial',
  'incomplete',
]);

/**
 * The report's first lines: what the next reader must know before anything else. From custody (the
 * report is written by the seal step, before the run has ended): a containment step the responder
 * declined or left out by stopping the run means the container is NOT CONTAINED; a failed one
 * means containment is incomplete; any other declined step is said too; steps that ended `partial`
 * (they noted gaps in the case) add one `INCOMPLETE: N gaps — see below` line, last.
 */
export function banners(records: readonly CustodyRecord[]): string[] {
  const out: string[] = [];
  const name = (step: string | undefined, uses: string) => `step "${step ?? '?'}" (${uses})`;
  for (const rec of records) {
    if (!rec.step) continue;
    if (rec.result === 'declined') {
      const d = (rec.details ?? {}) as { answer?: unknown; notRun?: unknown };
      const notRun = Array.isArray(d.notRun)
        ? (d.notRun as { id?: unknown; uses?: unknown }[]).filter(
            (s) => typeof s?.uses === 'string' && isContainment(s.uses),
          )
        : [];
      const stop = d.answer === 'abort' ? '; the responder stopped the run there' : '';
      if (isContainment(rec.action))
        out.push(
          `NOT CONTAINED: the responder declined ${name(rec.step, rec.action)} (custody #${rec.seq}): its containment was not applied${stop}`,
        );
      else
        out.push(
          `DECLINED: the responder declined ${name(rec.step, rec.action)} (custody #${rec.seq}): it was not run${stop}`,
        );
      if (notRun.length)
        out.push(
          `NOT CONTAINED: ${notRun.map((s) => name(String(s.id), String(s.uses))).join(', ')} never ran: the responder stopped the run at ${name(rec.step, rec.action)}`,
        );
    } else if (
      (rec.result === 'failed' || rec.result === 'interrupted') &&
      isContainment(rec.action)
    ) {
      out.push(
        `CONTAINMENT INCOMPLETE: ${name(rec.step, rec.action)} ${rec.result} (custody #${rec.seq})${rec.message ? `: ${rec.message}` : ''}`,
      );
    }
  }
  const partial = records.filter((rec) => rec.step && rec.result === 'partial');
  if (partial.length) {
    // The runner records how many gaps each partial step noted; a record without the count stands for one.
    const n = partial.reduce((sum, rec) => {
      const g = (rec.details as { gaps?: unknown } | undefined)?.gaps;
      return sum + (typeof g === 'number' && g > 0 ? g : 1);
    }, 0);
    const steps = partial
      .map((rec) => `${name(rec.step, rec.action)} (custody #${rec.seq})`)
      .join(', ');
    out.push(`INCOMPLETE: ${n} gap${n === 1 ? '' : 's'} — see below; ended partial: ${steps}`);
  }
  return out;
}

/** Facts about the evidence outside the steps' control (case.json `limitations`): not gaps, but the reader must know. */
export function limitations(r: ReportInput): Gap[] {
  return (r.info.limitations ?? []).map((l) => ({ what: `step ${l.step}`, why: l.reason }));
}

/** What was incomplete: failed steps, broken-off artifacts, stray files, an unfinished run. */
export function gaps(r: ReportInput): Gap[] {
  const out: Gap[] = [];
  for (const i of r.info.incomplete ?? []) out.push({ what: `step ${i.step}`, why: i.reason });
  for (const rec of r.records) {
    if (BAD_RESULTS.has(rec.result))
      out.push({
        what: `custody #${rec.seq} ${rec.action}${rec.step ? ` (step ${rec.step})` : ''}`,
        why: `${rec.result}${rec.message ? `: ${rec.message}` : ''}`,
      });
  }
  for (const a of r.artifacts)
    if (!a.complete)
      out.push({ what: a.path, why: `incomplete artifact${a.error ? `: ${a.error}` : ''}` });
  for (const u of r.unlisted) out.push({ what: u.path, why: u.why });
  for (const p of r.chainProblems)
    out.push({ what: `custody.jsonl line ${p.line}`, why: p.message });
  if ((r.info.status === 'running' && !r.duringRun) || r.info.status === 'open') {
    out.push({
      what: 'the run',
      why: `case status was "${r.info.status}" at sealing: the run did not finish (interrupted or crashed)`,
    });
  }
  return out;
}

/** Markdown-safe text: control characters made visible, markup characters escaped. */
export function mdText(s: unknown, max = 400): string {
  return clip(String(s ?? ''), max).replace(/[\\`*_{}[\]()<>#!|~&]/g, (c) =>
    c === '&' ? '&amp;' : `\\${c}`,
  );
}

/** How an auditor checks the bundle with stock tools. */
export function verifySteps(caseId: string): string[] {
  return [
    `sha256sum -c ${caseId}.tar.gz.sha256`,
    `tar -xzf ${caseId}.tar.gz && cd ${caseId}`,
    'sha256sum -c SHA256SUMS',
    'openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig',
  ];
}

/** The key note both reports print. */
export function keyNote(r: ReportInput): string {
  return r.key.source === 'generated'
    ? 'signed with an Ed25519 key generated for this case at sealing; its private half was never written anywhere and was discarded after signing, so the signature binds SHA256SUMS to this pub.pem only — compare the fingerprint with the one recorded in the ticket or custody record.'
    : 'signed with the Ed25519 key given with --sign-key.';
}

/** report.md */
export function renderMarkdown(r: ReportInput): string {
  const { info } = r;
  const L: string[] = [];
  const row = (cells: unknown[]): string => `| ${cells.map((c) => mdText(c)).join(' | ')} |`;
  for (const b of banners(r.records)) L.push(`> **${mdText(b)}**`, '');
  L.push(`# Evidence report: case ${mdText(info.id)}`, '');
  if (info.title) L.push(`**${mdText(info.title)}**`, '');
  L.push('| | |', '|---|---|');
  for (const [k, v] of caseFacts(r)) L.push(row([k, v]));
  L.push('', '## Target', '', '| | |', '|---|---|');
  for (const [k, v] of targetFacts(info)) L.push(row([k, v]));
  L.push('', renderFindingsMarkdown(r.findings).trimEnd());
  const g = gaps(r);
  L.push('', `## Incomplete (${g.length})`, '');
  if (!g.length) L.push('Nothing: every step that ran succeeded and every artifact is complete.');
  for (const x of g) L.push(`- **${mdText(x.what)}** — ${mdText(x.why)}`);
  const lim = limitations(r);
  if (lim.length) {
    L.push(
      '',
      `## Limitations (${lim.length})`,
      '',
      'Not gaps of a step: facts about the evidence the reader must keep in mind.',
      '',
    );
    for (const x of lim) L.push(`- **${mdText(x.what)}** — ${mdText(x.why)}`);
  }
  L.push(
    '',
    `## Custody (${r.records.length} records)`,
    '',
    'The final record, written after this report, says the case is being sealed.',
    '',
  );
  L.push(
    '| # | time (UTC) | actor | action | step | result | message |',
    '|---|---|---|---|---|---|---|',
  );
  for (const c of r.records)
    L.push(row([c.seq, c.time, c.actor, c.action, c.step ?? '', c.result, c.message ?? '']));
  const total = r.artifacts.reduce((n, a) => n + a.bytes, 0);
  L.push('', `## Artifacts (${r.artifacts.length}, ${humanBytes(total)})`, '');
  L.push('| path | bytes | sha256 | step | source | complete |', '|---|---|---|---|---|---|');
  for (const a of r.artifacts)
    L.push(row([a.path, a.bytes, a.sha256, a.step, a.source, a.complete ? 'yes' : 'NO']));
  for (const u of r.unlisted) L.push(row([u.path, u.bytes, u.sha256, '', u.why, 'unknown']));
  L.push('', '## Integrity', '');
  L.push(`SHA256SUMS lists every file of the case folder; ${mdText(keyNote(r))}`, '');
  L.push(`Public key fingerprint (sha256 of the SPKI DER): \`${r.key.fingerprint}\``, '');
  L.push('Check with stock tools:', '', '```', ...verifySteps(info.id), '```', '');
  return `${L.join('\n')}\n`;
}

export function caseFacts(r: ReportInput): [string, string][] {
  const { info } = r;
  return [
    ['case', info.id],
    ['ticket', info.ticket ?? ''],
    ['responder', info.responder],
    ['host', info.host],
    [
      'engine',
      `${info.engine.address} (Docker ${info.engine.version}, API ${info.engine.apiVersion}${info.engine.local ? ', local' : ''})`,
    ],
    ['tool', `${info.tool.name} ${info.tool.version}`],
    ['started', info.startedAt],
    ['finished', info.finishedAt ?? ''],
    ['sealed', r.sealedAt],
    [
      'runs',
      info.runs
        .map(
          (x, i) =>
            `${x.playbook} (${x.status ?? (r.duringRun && i === info.runs.length - 1 ? 'sealed by its last step' : 'unfinished')})`,
        )
        .join(', '),
    ],
  ];
}

export function targetFacts(info: CaseInfo): [string, string][] {
  const t = info.target;
  return [
    ['container', `${t.name} (${t.id})`],
    ['image', t.image],
    ['image id', t.imageId],
    ['image digest', t.imageDigest ?? ''],
  ];
}
