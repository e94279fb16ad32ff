import type { CaseMeta } from '../app/case-meta.js';
import type { IncidentEvent } from '../app/incident-events.js';
import type { PlannedStep, RunEvent } from '../runner/events.js';
import type { Approval } from '../runner/outcome.js';
import type { TimelineIndex } from './data/timeline-index.js';
import type { CaseData, ContainerRow, PlaybookEntry, VerifyOutcome } from './types.js';

/** A release plan as the TUI shows it: whether anything changes, and the lines saying what. */
export interface ReleasePreview {
  changes: boolean;
  lines: string[];
}

export interface RunRequest {
  playbookFile: string;
  targetId: string;
  /** Case details typed at the start prompt (title, ticket, case number, examiner…). */
  meta?: CaseMeta;
  signal: AbortSignal;
  onEvent: (e: RunEvent) => void;
  /** The responder's answer to a step that asks: yes / skip / abort (docs/statuses.md). */
  approve: (step: PlannedStep) => Promise<Approval>;
}

export interface IncidentRequest {
  playbookFile: string;
  targetIds: string[];
  signal: AbortSignal;
  onEvent: (e: IncidentEvent) => void;
}

/**
 * Everything the TUI needs from the outside world. The real implementation talks to the engine,
 * the case folder and the runner; tests pass fakes. Components never see this: the controller does.
 */
export interface TuiServices {
  /** Lists containers now and again on every engine event; returns a stop function. */
  watchContainers(
    onRows: (rows: ContainerRow[]) => void,
    onError: (message: string) => void,
  ): () => void;
  /** Shipped and ./playbooks playbooks, each with its plan for `target`. */
  listPlaybooks(target: { id: string; name: string }): Promise<PlaybookEntry[]>;
  /** Runs a playbook to its end; resolves with the exit code (rejects when it could not start). */
  run(req: RunRequest): Promise<number>;
  /**
   * Runs a playbook on several containers as one incident (the user approved the whole set at the
   * start prompt); resolves with the incident's exit code.
   */
  runIncident?(req: IncidentRequest): Promise<number>;
  readCase(dir: string, bundle?: string): Promise<CaseData>;
  /**
   * Opens `<caseDir>/timeline/timeline.jsonl` and starts indexing it (throws when there is none);
   * its `ready` promise settles when the whole file is indexed.
   */
  openTimeline(
    caseDir: string,
    onProgress: (indexed: number, done: boolean, sources: string[]) => void,
    signal: AbortSignal,
  ): TimelineIndex;
  /** Verifies a sealed bundle as `cirt verify` does. */
  verify?(bundlePath: string): Promise<VerifyOutcome>;
  /** Seals a case whose run ended without sealing, as `cirt seal --case` does; resolves with the bundle path. */
  seal?(caseDir: string): Promise<string>;
  /** What `cirt release` would change for this case (read from the case folders, nothing touched). */
  releasePlan?(caseDir: string): Promise<ReleasePreview>;
  /** Undoes the case's containment as `cirt release --case --yes` does; resolves with its summary line. */
  release?(caseDir: string): Promise<{ ok: boolean; line: string }>;
}
