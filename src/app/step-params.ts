import { UserError } from '../errors.js';
import type { Playbook } from '../runner/playbook.js';
import { safeText } from '../util/sanitize.js';

/** Params given from outside the playbook (a service rule), per step id: merged over the step's `with`. */
export type StepParams = Record<string, Record<string, unknown>>;

/**
 * The playbook with some steps' params replaced: each given mapping is merged over the step's own
 * `with` and parsed again by the action's schema, so a value from an alert is checked exactly as a
 * value written in the playbook would be. Every problem is reported at once; nothing runs.
 */
export function withStepParams(pb: Playbook, given: StepParams | undefined): Playbook {
  if (!given || !Object.keys(given).length) return pb;
  const problems: string[] = [];
  for (const id of Object.keys(given)) {
    if (!pb.steps.some((s) => s.id === id))
      problems.push(`no step "${safeText(id)}" in playbook ${pb.name}`);
  }
  const steps = pb.steps.map((step) => {
    const extra = given[step.id];
    if (!extra) return step;
    const rawParams = { ...step.rawParams, ...extra };
    const parsed = step.action.params.safeParse(rawParams);
    if (!parsed.success) {
      for (const i of parsed.error.issues)
        problems.push(
          `step "${step.id}" (${step.uses}): ${i.path.join('.') || '(params)'}: ${safeText(i.message)}`,
        );
      return step;
    }
    return { ...step, rawParams, params: parsed.data };
  });
  if (problems.length)
    throw new UserError(
      `Params for playbook ${pb.name} are not valid: ${problems.join('; ')}; nothing was run`,
      { hint: "Check the rule's params (and the alert fields they take) against `cirt actions`." },
    );
  return { ...pb, steps };
}
