import type { FalcoAlert } from '../app/alert.js';
import type { ServeRule } from './config.js';
import { priorityPasses } from './priority.js';

type FieldTest = NonNullable<ServeRule['match']['output_fields']>[string];

/** Falco values may be numbers (`proc.pid`) where the config wrote text: compared as text. */
const same = (a: unknown, b: unknown): boolean =>
  a === b || (a !== null && b !== null && a !== undefined && String(a) === String(b));

function fieldPasses(test: FieldTest, value: unknown): boolean {
  if (test !== null && typeof test === 'object') {
    if ('not' in test) return !same(value ?? null, test.not);
    if ('in' in test) return test.in.some((t) => same(value ?? null, t));
    return !test.not_in.some((t) => same(value ?? null, t));
  }
  return same(value ?? null, test);
}

/** Whether an alert passes every test of a rule (a test the rule does not write always passes). */
export function ruleMatches(rule: ServeRule, alert: FalcoAlert): boolean {
  const m = rule.match;
  if (m.rule && !m.rule.includes(alert.rule)) return false;
  if (m.priority && !priorityPasses(m.priority, alert.priority)) return false;
  if (m.source) {
    const source = typeof alert.source === 'string' ? alert.source : undefined;
    if (!source || !m.source.includes(source)) return false;
  }
  if (m.tags) {
    const have = new Set(alert.tags ?? []);
    if (!m.tags.some((group) => group.every((t) => have.has(t)))) return false;
  }
  if (m.output_fields) {
    const f = alert.output_fields as Record<string, unknown>;
    for (const [k, test] of Object.entries(m.output_fields))
      if (!fieldPasses(test, Object.hasOwn(f, k) ? f[k] : undefined)) return false;
  }
  return true;
}

/**
 * The rule that fires for an alert: the FIRST matching one, in file order (as a firewall reads its
 * rules). One alert starts at most one run, so two rules can never race on one container; put the
 * narrow rules above the broad ones.
 */
export function firstMatch(rules: readonly ServeRule[], alert: FalcoAlert): ServeRule | undefined {
  return rules.find((r) => ruleMatches(r, alert));
}
