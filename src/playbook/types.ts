export type { Playbook, PlaybookStep } from '../runner/playbook.js';

/** One problem found while loading, with where it is. */
export interface PlaybookProblem {
  file: string;
  line: number;
  col: number;
  /** `step "isolate" (contain:network-isolate)` when the problem is in a step. */
  step?: string;
  message: string;
}
