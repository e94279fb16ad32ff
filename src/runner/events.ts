/** Everything the engine tells reporters. Reporters subscribe; none of them drive the run. */
/**
 * Every status, its exit code and how it shows: docs/statuses.md. `declined`: the responder said no
 * at its prompt; `partial`: done, but gaps were noted in the case; `not-applicable`: the target's
 * state leaves the step nothing to act on (an exited container: no processes to pause or read).
 */
export type StepStatus =
  'ok' | 'noop' | 'partial' | 'failed' | 'skipped' | 'declined' | 'planned' | 'not-applicable';
/** `not-contained`: a containment step was declined (or left out by the responder's stop); `declined`: another step was; `incomplete`: a step ended partial. */
export type RunStatus =
  'ok' | 'incomplete' | 'failed' | 'not-contained' | 'declined' | 'aborted' | 'blocked' | 'planned';

export interface PlannedStep {
  id: string;
  uses: string;
  description: string;
  mutates: boolean;
  confirm: boolean;
  /** What this step would change or collect, in one line. */
  plan: string;
}

export type RunEvent =
  | {
      type: 'run:start';
      time: string;
      playbook: { name: string; file: string; description: string };
      /** `engine`: the name of the engine the container is on (several engines may share a name). */
      target: { id: string; name: string; image: string; engine?: string };
      caseId: string | null;
      caseDir: string | null;
      dryRun: boolean;
      steps: PlannedStep[];
      /** Said before anything is collected (e.g. low disk space on the cases folder). */
      warnings?: string[];
    }
  | {
      type: 'step:start';
      time: string;
      stepId: string;
      index: number;
      uses: string;
      mutates: boolean;
    }
  | {
      type: 'step:progress';
      time: string;
      stepId: string;
      message?: string;
      bytes?: number;
      totalBytes?: number;
    }
  | { type: 'step:warning'; time: string; stepId: string; message: string }
  | { type: 'step:confirm'; time: string; stepId: string; uses: string; plan: string }
  | {
      type: 'step:end';
      time: string;
      stepId: string;
      uses: string;
      status: StepStatus;
      message: string;
      durationMs: number;
      error?: string;
      /** The step failed on a bug in cirt (its stack is in the custody record), not on the container. */
      bug?: true;
    }
  | {
      type: 'artifact:added';
      time: string;
      stepId: string;
      path: string;
      sha256: string;
      bytes: number;
      mediaType: string;
      complete: boolean;
    }
  | {
      type: 'run:end';
      time: string;
      status: RunStatus;
      exitCode: number;
      caseId: string | null;
      caseDir: string | null;
      counts: Record<StepStatus, number>;
      message: string;
      bundle?: string;
    };

export type EventListener = (event: RunEvent) => void;

/** Distributes events to every reporter; a throwing reporter never breaks the run. */
export class EventBus {
  private readonly listeners: EventListener[] = [];

  on(listener: EventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(event: RunEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A reporter's failure must not stop evidence collection.
      }
    }
  }
}

export const now = (): string => new Date().toISOString();
