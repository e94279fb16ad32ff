import type { PlannedStep, RunEvent, RunStatus } from '../runner/events.js';

/** A target of a multi-target run as events and the manifest name it. */
export interface TargetInfo {
  /** `<engine>/<container id>`: unique across the run. */
  key: string;
  engine: string;
  id: string;
  name: string;
  image: string;
}

/** How one target's run ended. */
export interface TargetOutcome extends TargetInfo {
  caseId: string | null;
  caseDir: string | null;
  status: RunStatus;
  exitCode: number;
  message: string;
  bundle: string | null;
}

/**
 * What a multi-target run tells reporters: its own start, phase and end, and every target's run
 * events wrapped with the target's key (a run event alone does not say which container it is of).
 */
export type IncidentEvent =
  | {
      type: 'incident:start';
      time: string;
      incidentId: string | null;
      dir: string | null;
      dryRun: boolean;
      playbook: { name: string; file: string };
      targets: TargetInfo[];
      steps: PlannedStep[];
      /** Steps before this index are the containment phase (every target's, before any collection). */
      collectFrom: number;
    }
  /** Every target finished its containment phase: collection starts. */
  | { type: 'incident:collect'; time: string; contained: number }
  | { type: 'target:event'; time: string; key: string; event: RunEvent }
  | ({ type: 'target:end'; time: string } & TargetOutcome)
  | {
      type: 'incident:end';
      time: string;
      incidentId: string | null;
      dir: string | null;
      status: 'ok' | 'failed' | 'aborted' | 'planned' | 'declined';
      exitCode: number;
      counts: Partial<Record<RunStatus, number>>;
      message: string;
      targets: TargetOutcome[];
    };

export type IncidentListener = (e: IncidentEvent) => void;

/** "3 ok, 1 failed": the counts in a fixed order. */
export function countsText(counts: Partial<Record<RunStatus, number>>): string {
  const order: RunStatus[] = [
    'ok',
    'incomplete',
    'not-contained',
    'declined',
    'failed',
    'blocked',
    'aborted',
    'planned',
  ];
  return order
    .filter((s) => counts[s])
    .map((s) => `${counts[s]} ${s}`)
    .join(', ');
}
