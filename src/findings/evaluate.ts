import type { Evidence } from './evidence.js';
import { SEVERITIES, type RuleSet } from './rules.js';
import type { Finding } from './types.js';

/** Unknown severities (a hand-edited findings.json) go last. */
const rank = (s: string): number => {
  const i = SEVERITIES.indexOf(String(s).toLowerCase() as (typeof SEVERITIES)[number]);
  return i < 0 ? SEVERITIES.length : i;
};

/** Orders findings most severe first; equal severity keeps rule-file order. Stable. */
export function bySeverity<T extends { severity: string }>(list: readonly T[]): T[] {
  return list
    .map((f, i) => ({ f, i }))
    .sort((a, b) => rank(a.f.severity) - rank(b.f.severity) || a.i - b.i)
    .map((x) => x.f);
}

/**
 * Applies every rule to the evidence: one finding per matched subject. A matcher that throws is a
 * bug in it, not in the case: it is noted and the other rules still run.
 */
export function evaluate(rules: RuleSet, ev: Evidence): Finding[] {
  const out: Finding[] = [];
  for (const rule of rules.rules) {
    let matches;
    try {
      matches = rule.matcher.match(rule.params, ev);
    } catch (err) {
      ev.diag.warn(`rule ${rule.id}: matcher ${rule.kind} failed: ${(err as Error).message}`);
      continue;
    }
    matches.forEach((m, i) => {
      out.push({
        id: `${rule.id}-${i + 1}`,
        rule: rule.id,
        title: rule.title,
        severity: rule.severity,
        technique: rule.technique,
        summary: m.summary,
        evidence: m.evidence,
        events: [],
      });
    });
  }
  return bySeverity(out);
}
