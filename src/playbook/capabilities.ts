import { needsOf } from '../runner/action.js';
import type { Capability } from '../runtime/types.js';
import { PlaybookError } from './load.js';
import type { Playbook, PlaybookProblem } from './types.js';

/**
 * What the steps need that the target's runtime cannot do, one problem per step (all at once, as
 * the loader reports them). Pure: the capabilities are passed in.
 */
export function capabilityProblems(
  pb: Playbook,
  capabilities: ReadonlySet<Capability>,
  runtimeName: string,
): PlaybookProblem[] {
  const problems: PlaybookProblem[] = [];
  for (const s of pb.steps) {
    const missing = needsOf(s.action, s.params).filter((c) => !capabilities.has(c));
    if (missing.length) {
      problems.push({
        file: pb.file,
        line: s.line,
        col: 1,
        step: `step "${s.id}" (${s.uses})`,
        message: `needs ${missing.join(', ')}, which ${runtimeName} cannot do`,
      });
    }
  }
  return problems;
}

/** Throws a PlaybookError (exit 2, nothing run) when the runtime cannot do what the steps need. */
export function checkCapabilities(
  pb: Playbook,
  capabilities: ReadonlySet<Capability>,
  runtimeName: string,
): void {
  const problems = capabilityProblems(pb, capabilities, runtimeName);
  if (problems.length) throw new PlaybookError(problems);
}
