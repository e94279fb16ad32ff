import { isContainment } from '../runner/outcome.js';
import { clip } from '../util/sanitize.js';
import type { FindingsDoc } from '../findings/types.js';
import { skippedGaps, type ReportExtras } from './facts.js';
import { renderReportMarkdown } from './markdown-body.js';
import type { SealFacts, UnlistedFile } from '../evidence/seal.js';
import type { CustodyRecord } from '../evidence/custody.js';
import type { CaseInfo } from '../evidence/types.js';

export type { UnlistedFile };

/** Everything report.md and report.html show: what the seal knows, and the findings. */
export interface ReportInput extends Omit<SealFacts, 'root'> {
  /** findings.json, when evidence:findings ran (src/report/findings-doc.ts reads it). */
  findings?: FindingsDoc;
  /** Event times and credentials, read from the case folder (src/report/gather.ts). */
  extras?: ReportExtras;
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
  out.push(...skippedGaps(r));
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
export function verifySteps(caseId: string, tsa = false): string[] {
  return [
    `sha256sum -c ${caseId}.tar.gz.sha256`,
    `tar -xzf ${caseId}.tar.gz && cd ${caseId}`,
    'sha256sum -c SHA256SUMS',
    'openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig',
    ...(tsa ? ['openssl ts -verify -in SHA256SUMS.tsr -data SHA256SUMS -CAfile tsa-ca.pem'] : []),
  ];
}

/** The key note both reports print. */
export function keyNote(r: ReportInput): string {
  if (r.key.source === 'generated')
    return 'signed with an Ed25519 key generated for this case at sealing; its private half was discarded, so the signature shows only that SHA256SUMS matches this pub.pem — anyone who edits the bundle can sign it again with a key of their own. Compare the fingerprint with the one recorded at the time (ticket, chat); `cirt keys init` gives the responder a key of their own.';
  if (r.key.source === 'kept')
    return 'signed with the responder’s own Ed25519 key (`cirt keys init`); compare the fingerprint with the public key they gave you (`cirt keys export`), or run `cirt verify --trusted-keys`.';
  return 'signed with the Ed25519 key given with --sign-key; compare the fingerprint with that signer’s published public key.';
}

/** The "finished" cell: case.json's finishedAt, else the last run's, else what is known. */
export function finishedText(r: ReportInput): string {
  const { info } = r;
  const last = info.runs.at(-1);
  if (info.finishedAt) return info.finishedAt;
  if (last?.finishedAt) return last.finishedAt;
  if (r.duringRun) return `${r.sealedAt} (sealed by the run’s last step)`;
  return `not recorded: the run did not finish; sealed ${r.sealedAt}`;
}

/** report.md */
export function renderMarkdown(r: ReportInput): string {
  return renderReportMarkdown(r);
}

export function caseFacts(r: ReportInput): [string, string][] {
  const { info } = r;
  const meta: [string, string | undefined][] = [
    ['case number', info.caseNumber],
    ['evidence number', info.evidenceNumber],
    ['description', info.description],
    ['notes', info.notes],
  ];
  return [
    ['case', info.id],
    ...meta.filter((m): m is [string, string] => Boolean(m[1])),
    ['ticket', info.ticket ?? ''],
    ['examiner', info.responder],
    ['host', info.host],
    [
      'engine',
      `${info.engine.address} (Docker ${info.engine.version}, API ${info.engine.apiVersion}${info.engine.local ? ', local' : ''})`,
    ],
    ['tool', `${info.tool.name} ${info.tool.version}`],
    ['started', info.startedAt],
    ['finished', finishedText(r)],
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
