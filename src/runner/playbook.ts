/** A validated playbook as the runner takes it (src/playbook/ loads and checks it). */
import type { AnyAction } from './action.js';

export interface PlaybookStep {
  id: string;
  uses: string;
  action: AnyAction;
  /** Parsed, typed params (the action's schema output). */
  params: unknown;
  /** The raw `with` mapping as written, for the custody log. */
  rawParams: Record<string, unknown>;
  confirm: boolean;
  continueOnError: boolean;
  /** Runs even after an earlier step failed (e.g. sealing what was collected). */
  always: boolean;
  /** 1-based line of the step in its file. */
  line: number;
}

export interface Playbook {
  name: string;
  description: string;
  file: string;
  steps: PlaybookStep[];
}
