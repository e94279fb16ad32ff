import type { Finding } from '../findings/types.js';
import { bySeverity } from '../findings/evaluate.js';
import type { Credential } from './credentials.js';
import { containment, skippedSteps, type Measure } from './state.js';
import type { Gap, ReportInput } from './markdown.js';

/**
 * What the report's first screen and its sections say, worked out once from the seal's facts for
 * both report.md and report.html (each only renders it).
 */

/** What the report gathers from the case folder besides the seal's facts (src/report/gather.ts). */
export interface ReportExtras {
  /** Timeline events of the findings, by id: when each thing happened. */
  events: Map<string, { timestamp: number; source: string; message: string }>;
  credentials: { list: Credential[]; capped: boolean };
}

export interface KeyEvent {
  time: string;
  what: string;
  who: 'attacker?' | 'responder' | 'engine';
  ref: string;
}

export interface FindingView {
  f: Finding;
  /** The earliest of its events, ISO (absent: no timed event). */
  time?: string;
  indicators: string[];
}

const iso = (us: number): string => new Date(Math.floor(us / 1000)).toISOString();

/** Paths, addresses, hashes and processes named in a finding (from its text and evidence). */
export function indicators(f: Finding): string[] {
  const out = new Set<string>();
  const text = f.summary;
  for (const m of text.matchAll(/(?:^|[\s(="'])(\/[^\s,;()"']+)/g))
    out.add(m[1].replace(/[.:]$/, ''));
  for (const m of text.matchAll(/\b(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?\b/g)) out.add(m[0]);
  for (const m of text.matchAll(/\b[0-9a-f]{64}\b/g)) out.add(m[0]);
  for (const m of text.matchAll(/\bpid \d+(?: \([^)]{1,60}\))?/g)) out.add(m[0]);
  return [...out].slice(0, 12);
}

export function findingViews(r: ReportInput): FindingView[] {
  const list = bySeverity(r.findings?.findings ?? []);
  return list.map((f) => {
    const times = f.events
      .map((id) => r.extras?.events.get(id)?.timestamp)
      .filter((t): t is number => typeof t === 'number');
    return {
      f,
      ...(times.length ? { time: iso(Math.min(...times)) } : {}),
      indicators: indicators(f),
    };
  });
}

/** The timeline of key events: the findings' events and every containment action, in time order. */
export function keyEvents(r: ReportInput, measures: Measure[]): KeyEvent[] {
  const out: KeyEvent[] = [];
  const seen = new Set<string>();
  for (const f of r.findings?.findings ?? [])
    for (const id of f.events) {
      const e = r.extras?.events.get(id);
      if (!e || seen.has(id)) continue;
      seen.add(id);
      out.push({
        time: iso(e.timestamp),
        what: `${f.title}: ${e.message}`,
        who: e.source === 'custody' ? 'responder' : 'attacker?',
        ref: `${f.id} · ${id}`,
      });
    }
  for (const rec of r.records) {
    if (rec.action === 'run:start' || rec.action === 'run:end' || rec.action === 'alert:received')
      out.push({
        time: rec.time,
        what: `${rec.action} ${rec.message ?? ''}`.trim(),
        who: 'responder',
        ref: `custody #${rec.seq}`,
      });
  }
  for (const m of measures)
    out.push({
      time: m.time,
      what: `${m.action} (step ${m.step}): ${m.outcome}${m.message ? ` — ${m.message}` : ''}`,
      who: 'responder',
      ref: `custody #${m.seq}`,
    });
  out.push({
    time: r.sealedAt,
    what: 'case sealed (report written)',
    who: 'responder',
    ref: 'case.json seal',
  });
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

/** Steps the run planned that never ran, as gaps. */
export function skippedGaps(r: ReportInput): Gap[] {
  return skippedSteps(r.records, r.step).map((s) => ({
    what: `step ${s}`,
    why: 'skipped: planned by the playbook but never run (the run was stopped, interrupted or a step before it failed)',
  }));
}

export { containment };

/** Custody records of steps that needed a decision: approvals and refusals. */
export function approvals(
  r: ReportInput,
): { seq: number; time: string; step: string; action: string; result: string; message: string }[] {
  return r.records
    .filter((c) => c.step && ['approved', 'declined', 'refused'].includes(c.result))
    .map((c) => ({
      seq: c.seq,
      time: c.time,
      step: c.step ?? '',
      action: c.action,
      result: c.result,
      message: c.message ?? '',
    }));
}

/** "When" for the reader: a trusted time or the host's clock. */
export function timeNote(r: ReportInput): string {
  return r.tsa
    ? `SHA256SUMS is timestamped by the RFC 3161 authority ${r.tsa} (SHA256SUMS.tsr, made right after this report): the case existed no later than that token's time. Every other time here is the sealing host's clock.`
    : 'No trusted timestamp: every time in this report is the sealing host’s clock, which an attacker on that host may have set. Seal with --tsa URL for an RFC 3161 timestamp.';
}
