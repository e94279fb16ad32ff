import { EXIT } from '../errors.js';
import type { RunStatus, StepStatus } from './events.js';

/**
 * The responder's answer to a step that asks first: run it, skip it and go on, or stop the run
 * (the remaining steps are skipped, `always: true` ones such as evidence:seal still run).
 */
export type Approval = 'yes' | 'skip' | 'abort';

/** An answer with who gave it (the service: a named responder, or the configured default at timeout). */
export interface ApprovalBy {
  answer: Approval;
  by: string;
}

/** A containment step: its action is in the `contain:` category (they all change the container). */
export function isContainment(uses: string): boolean {
  return uses.startsWith('contain:');
}

/** Exit code of each run status (docs/statuses.md). */
export const RUN_EXIT: Record<RunStatus, number> = {
  ok: EXIT.ok,
  planned: EXIT.ok,
  incomplete: EXIT.failed,
  failed: EXIT.failed,
  'not-contained': EXIT.failed,
  declined: EXIT.failed,
  blocked: EXIT.usage,
  aborted: EXIT.interrupted,
};

/** How a status reads in a headline: `NOT CONTAINED`, `DECLINED`, `INCOMPLETE`, `OK`. */
export function statusLabel(status: string): string {
  return status.replace(/-/g, ' ').toUpperCase();
}

/** What the runner saw of the responder's answers, for the run's status and message. */
export interface DeclineFacts {
  /** Steps the responder declined (skip or abort), in order. */
  declined: { id: string; uses: string; answer: Exclude<Approval, 'yes'> }[];
  /** Steps never run because the responder stopped the run. */
  notRun: { id: string; uses: string }[];
}

/** Containment the responder kept from happening: declined containment steps and those a stop left out. */
export function containmentNotApplied(f: DeclineFacts): { id: string; uses: string }[] {
  return [...f.declined, ...f.notRun].filter((s) => isContainment(s.uses));
}

/**
 * The run's status from how it went. Order matters: an interrupt or a missing approval says most
 * about what happened; then a containment the responder declined (the container is still live,
 * which is what the next person must know first); then failures; then any other declined step;
 * then a step that ended `partial` (it ran, but noted gaps in the case).
 */
export function runStatus(o: {
  aborted: boolean;
  blocked: boolean;
  counts: Record<StepStatus, number>;
  facts: DeclineFacts;
}): RunStatus {
  if (o.aborted) return 'aborted';
  if (o.blocked) return 'blocked';
  if (containmentNotApplied(o.facts).length) return 'not-contained';
  if (o.counts.failed > 0) return 'failed';
  if (o.facts.declined.length) return 'declined';
  // Done, but content a step was responsible for is missing from the case: never an OK.
  if (o.counts.partial > 0) return 'incomplete';
  return 'ok';
}

/**
 * The one-line message of a run that was not interrupted or blocked (its status says the rest).
 * `gaps`: what the `partial` steps noted as missing from the case. `warnings` and `limitations`
 * (facts about the evidence that are not a step's failure) are said even when the run is ok.
 */
export function runMessage(
  counts: Record<StepStatus, number>,
  f: DeclineFacts,
  warnings = 0,
  gaps = 0,
  limitations = 0,
  bugs: readonly string[] = [],
): string {
  const list = (xs: { id: string; uses: string }[]): string =>
    xs.map((s) => `step "${s.id}" (${s.uses})`).join(', ');
  const parts: string[] = [];
  const declinedContainment = f.declined.filter((d) => isContainment(d.uses));
  if (declinedContainment.length)
    parts.push(`the responder declined ${list(declinedContainment)}: containment not applied`);
  const stop = f.declined.find((d) => d.answer === 'abort');
  if (stop) {
    const notRunContainment = f.notRun.filter((s) => isContainment(s.uses));
    const among = notRunContainment.length
      ? ` (containment among them: ${list(notRunContainment)})`
      : '';
    parts.push(
      `the responder stopped the run at step "${stop.id}"${f.notRun.length ? `, ${f.notRun.length} step(s) not run${among}` : ''}`,
    );
  }
  const declinedOther = f.declined.filter((d) => d.answer === 'skip' && !isContainment(d.uses));
  if (declinedOther.length) parts.push(`the responder declined ${list(declinedOther)}`);
  if (counts.failed)
    parts.push(
      `${counts.failed} step(s) failed${bugs.length ? ` (${bugs.map((b) => `"${b}"`).join(', ')} hit a bug in cirt: please report it)` : ''}`,
    );
  if (counts.partial)
    parts.push(
      `${counts.partial} step(s) partial: ${gaps} gap(s) noted in case.json "incomplete" (the report lists them under Incomplete)`,
    );
  const notes = [
    warnings ? `${warnings} warning(s)` : '',
    limitations
      ? `${limitations} limitation(s) of the evidence noted in case.json "limitations"`
      : '',
  ].filter(Boolean);
  const done = counts.ok + counts.noop;
  const na = counts['not-applicable'] ?? 0;
  // A re-run on a container already handled: say plainly that it changed and collected nothing.
  if (counts.noop > 0 && !parts.length && done === counts.noop && !na && !counts.partial)
    return `every step was a no-op (${counts.noop} step(s)): nothing was changed or collected${notes.length ? `, with ${notes.join(', ')}` : ''}`;
  // "0 step(s) done" says nothing when the parts before already tell what happened.
  if (done || notes.length || !parts.length || na)
    parts.push(
      `${done} step(s) done${counts.partial ? ' in full' : ''}${notes.length ? ` with ${notes.join(', ')}` : ''}`,
    );
  // Not a failure and not done: said apart, so nobody reads "OK" as "the container was frozen".
  if (na)
    parts.push(
      `${na} step(s) did not apply (the container's state left them nothing to act on: see the steps marked not-applicable)`,
    );
  return parts.join('; ');
}
