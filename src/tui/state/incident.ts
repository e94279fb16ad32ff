import type { IncidentEvent, TargetOutcome } from '../../app/incident-events.js';
import type { RunStatus } from '../../runner/events.js';
import type { ContainerRow } from '../types.js';
import type { TuiAction } from './actions.js';

/** One target's line on the incident screen. */
export interface TargetProgress {
  key: string;
  name: string;
  engine: string;
  /** The step running now, or the last one that ended. */
  step: string;
  done: number;
  failedSteps: number;
  status: 'waiting' | 'running' | RunStatus;
  message: string;
}

/** Several containers picked with Space, and the multi-target run started on them. */
export interface IncidentState {
  /** Ids of the containers selected with Space (kept across list updates). */
  picked: string[];
  /** The selection a playbook is being picked for (the playbooks screen then offers a run on all). */
  pending: ContainerRow[] | null;
  phase: 'idle' | 'starting' | 'running' | 'ended' | 'error';
  playbook: string;
  incidentId: string | null;
  steps: number;
  collecting: boolean;
  targets: TargetProgress[];
  end?: { status: string; exitCode: number; message: string; dir: string | null };
  error?: string;
}

export const initialIncident: IncidentState = {
  picked: [],
  pending: null,
  phase: 'idle',
  playbook: '',
  incidentId: null,
  steps: 0,
  collecting: false,
  targets: [],
};

/** Whether the multi-target run is still going (leaving its screen must not hide it). */
export const incidentActive = (s: IncidentState): boolean =>
  s.phase === 'starting' || s.phase === 'running';

/** How many targets ended in each status, and how many are still going: the incident's total. */
export function incidentTotals(s: IncidentState): {
  ended: number;
  counts: Partial<Record<string, number>>;
} {
  const counts: Partial<Record<string, number>> = {};
  let ended = 0;
  for (const t of s.targets) {
    if (t.status === 'waiting' || t.status === 'running') continue;
    ended++;
    counts[t.status] = (counts[t.status] ?? 0) + 1;
  }
  return { ended, counts };
}

function update(
  s: IncidentState,
  key: string,
  f: (t: TargetProgress) => TargetProgress,
): IncidentState {
  return { ...s, targets: s.targets.map((t) => (t.key === key ? f(t) : t)) };
}

function onEvent(s: IncidentState, e: IncidentEvent): IncidentState {
  switch (e.type) {
    case 'incident:start':
      return {
        ...s,
        phase: 'running',
        playbook: e.playbook.name,
        incidentId: e.incidentId,
        steps: e.steps.length,
        targets: e.targets.map((t) => ({
          key: t.key,
          name: t.name,
          engine: t.engine,
          step: '',
          done: 0,
          failedSteps: 0,
          status: 'waiting',
          message: '',
        })),
      };
    case 'incident:collect':
      return { ...s, collecting: true };
    case 'target:event': {
      const ev = e.event;
      if (ev.type === 'step:start')
        return update(s, e.key, (t) => ({ ...t, status: 'running', step: ev.stepId }));
      if (ev.type === 'step:end')
        return update(s, e.key, (t) => ({
          ...t,
          step: ev.stepId,
          done: t.done + 1,
          failedSteps: t.failedSteps + (ev.status === 'failed' ? 1 : 0),
        }));
      return s;
    }
    case 'target:end':
      return update(s, e.key, (t) => ({ ...t, status: e.status, message: e.message }));
    case 'incident:end':
      return {
        ...s,
        phase: 'ended',
        end: { status: e.status, exitCode: e.exitCode, message: e.message, dir: e.dir },
        // A target the run never reached (refused before it started) still shows how it ended.
        targets: s.targets.map((t) => {
          const o: TargetOutcome | undefined = e.targets.find((x) => x.key === t.key);
          return o && (t.status === 'waiting' || t.status === 'running')
            ? { ...t, status: o.status, message: o.message }
            : t;
        }),
      };
    default:
      return s;
  }
}

export function incidentReducer(s: IncidentState, a: TuiAction): IncidentState {
  switch (a.type) {
    case 'containers:toggle':
      return {
        ...s,
        picked: s.picked.includes(a.id) ? s.picked.filter((x) => x !== a.id) : [...s.picked, a.id],
      };
    case 'incident:pick':
      return { ...s, pending: a.targets };
    case 'playbooks:request':
      // A single container's picker: not the selection's.
      return a.many ? s : { ...s, pending: null };
    case 'incident:request':
      return {
        ...initialIncident,
        phase: 'starting',
        playbook: a.playbook.name,
        steps: a.playbook.steps.length,
      };
    case 'incident:event':
      return onEvent(s, a.event);
    case 'incident:failed':
      return { ...s, phase: 'error', error: a.message };
    default:
      return s;
  }
}
