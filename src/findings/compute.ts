import { Diagnostics, versionsOf } from '../timeline/artifacts.js';
import { buildTimeline } from '../timeline/build.js';
import type { CaseSource } from '../evidence/case-source.js';
import { evaluate } from './evaluate.js';
import { loadEvidence } from './evidence.js';
import { linkEvents, linkJsonl } from './link.js';
import { loadRules, type RuleSet } from './rules.js';
import type { FindingsDoc } from './types.js';

/** The newest timeline/timeline.jsonl of a case, if evidence:timeline ran. */
export async function timelineFile(src: CaseSource): Promise<string | undefined> {
  const v = versionsOf(await src.list(), 'timeline/timeline.jsonl');
  return v[v.length - 1];
}

/**
 * Evaluates the rules against a case and links each finding to its timeline events: from the case's
 * timeline.jsonl when there is one, else from a timeline built on the fly (streamed, not kept).
 */
export async function computeFindings(
  src: CaseSource,
  o: { rules?: RuleSet; onWarning?: (m: string) => void } = {},
): Promise<FindingsDoc> {
  const rules = o.rules ?? loadRules();
  const diag = new Diagnostics(o.onWarning);
  const ev = await loadEvidence(src, diag);
  const findings = evaluate(rules, ev);
  const tl = await timelineFile(src);
  if (findings.length) {
    if (tl) await linkJsonl(findings, src, tl);
    else {
      const built = await buildTimeline(src, { onWarning: () => undefined });
      await linkEvents(findings, built.events);
    }
  }
  diag.finish();
  return {
    rulesVersion: rules.version,
    findings,
    ...(diag.notes.length ? { notes: diag.notes } : {}),
  };
}
