import type { RunEvent, RunStatus, StepStatus } from '../../runner/events.js';
import type { TuiAction } from './actions.js';

export type StepState = 'waiting' | 'running' | 'confirm' | StepStatus;

export interface StepProgress {
  bytes: number;
  totalBytes?: number;
  /** Bytes per second over the current artifact, from the events' own times (so replays agree). */
  rate?: number;
  /** Seconds left, when the total is known and the rate is not zero. */
  eta?: number;
  message?: string;
  /** Where the current rate measurement started (a new artifact restarts it). */
  since: { ms: number; bytes: number };
}

export interface StepView {
  id: string;
  uses: string;
  mutates: boolean;
  confirm: boolean;
  plan: string;
  state: StepState;
  message: string;
  durationMs: number;
  startedMs?: number;
  progress?: StepProgress;
  warnings: string[];
  artifacts: number;
}

export interface RunState {
  phase: 'idle' | 'starting' | 'running' | 'ended' | 'error';
  playbook: string;
  target: { id: string; name: string };
  caseId: string | null;
  caseDir: string | null;
  steps: StepView[];
  /** The step waiting for the user's y/N. */
  confirm?: { stepId: string; uses: string; plan: string };
  abortRequested: boolean;
  /** Sealing after an interrupted or failed run (`s`), like `cirt seal --case`. */
  sealing?: boolean;
  sealError?: string;
  end?: {
    status: RunStatus;
    exitCode: number;
    message: string;
    bundle?: string;
    counts: Record<StepStatus, number>;
  };
  error?: string;
}

export const initialRun: RunState = {
  phase: 'idle',
  playbook: '',
  target: { id: '', name: '' },
  caseId: null,
  caseDir: null,
  steps: [],
  abortRequested: false,
};

const ms = (iso: string): number => Date.parse(iso);

function updateStep(s: RunState, stepId: string, f: (v: StepView) => StepView): RunState {
  return { ...s, steps: s.steps.map((v) => (v.id === stepId ? f(v) : v)) };
}

/** Folds one progress event into the step's byte counter, rate and ETA. */
export function nextProgress(
  prev: StepProgress | undefined,
  startedMs: number,
  e: Extract<RunEvent, { type: 'step:progress' }>,
): StepProgress {
  const t = ms(e.time);
  const base = prev ?? { bytes: 0, since: { ms: startedMs, bytes: 0 } };
  if (e.bytes === undefined) return { ...base, message: e.message ?? base.message };
  // The counter is per artifact: a smaller value means the step began its next artifact.
  const since = e.bytes < base.bytes ? { ms: t, bytes: 0 } : base.since;
  const totalBytes = e.totalBytes ?? (e.bytes < base.bytes ? undefined : base.totalBytes);
  const elapsed = (t - since.ms) / 1000;
  const rate = elapsed > 0 ? (e.bytes - since.bytes) / elapsed : base.rate;
  const eta =
    totalBytes !== undefined && rate && rate > 0
      ? Math.max(0, (totalBytes - e.bytes) / rate)
      : undefined;
  return { bytes: e.bytes, totalBytes, rate, eta, message: e.message ?? base.message, since };
}

function onEvent(s: RunState, e: RunEvent): RunState {
  switch (e.type) {
    case 'run:start':
      return {
        ...s,
        phase: 'running',
        playbook: e.playbook.name,
        target: { id: e.target.id, name: e.target.name },
        caseId: e.caseId,
        caseDir: e.caseDir,
        steps: e.steps.map((p) => ({
          ...p,
          state: 'waiting',
          message: '',
          durationMs: 0,
          warnings: [],
          artifacts: 0,
        })),
        confirm: undefined,
        end: undefined,
        error: undefined,
      };
    case 'step:start':
      return updateStep(s, e.stepId, (v) => ({ ...v, state: 'running', startedMs: ms(e.time) }));
    case 'step:progress':
      return updateStep(s, e.stepId, (v) => ({
        ...v,
        progress: nextProgress(v.progress, v.startedMs ?? ms(e.time), e),
      }));
    case 'step:warning':
      return updateStep(s, e.stepId, (v) => ({ ...v, warnings: [...v.warnings, e.message] }));
    case 'step:confirm':
      return {
        ...updateStep(s, e.stepId, (v) => ({ ...v, state: 'confirm' })),
        confirm: { stepId: e.stepId, uses: e.uses, plan: e.plan },
      };
    case 'artifact:added':
      return updateStep(s, e.stepId, (v) => ({ ...v, artifacts: v.artifacts + 1 }));
    case 'step:end': {
      const next = updateStep(s, e.stepId, (v) => ({
        ...v,
        state: e.status,
        message: e.message,
        durationMs: e.durationMs,
      }));
      return s.confirm?.stepId === e.stepId ? { ...next, confirm: undefined } : next;
    }
    case 'run:end':
      return {
        ...s,
        phase: 'ended',
        caseId: e.caseId,
        caseDir: e.caseDir,
        confirm: undefined,
        end: {
          status: e.status,
          exitCode: e.exitCode,
          message: e.message,
          counts: e.counts,
          ...(e.bundle ? { bundle: e.bundle } : {}),
        },
      };
    default:
      return s;
  }
}

/** The Run screen's state: a pure fold over engine events plus the user's answers. */
export function runReducer(s: RunState, a: TuiAction): RunState {
  switch (a.type) {
    case 'engine':
      return onEvent(s, a.event);
    case 'run:request':
      return {
        ...initialRun,
        phase: 'starting',
        playbook: a.playbook.name,
        target: { id: a.target.id, name: a.target.name },
      };
    case 'run:failed':
      return {
        ...s,
        phase: s.phase === 'running' ? s.phase : 'error',
        error: a.message,
        confirm: undefined,
      };
    case 'run:answer': {
      if (s.confirm?.stepId !== a.stepId) return s;
      // Yes: the step runs now; skip / abort: the engine reports it declined at once.
      return {
        ...updateStep(s, a.stepId, (v) => ({
          ...v,
          state: a.answer === 'yes' ? 'running' : 'confirm',
        })),
        confirm: undefined,
      };
    }
    case 'run:abort':
      return { ...s, abortRequested: true, confirm: undefined };
    case 'run:seal':
      return { ...s, sealing: true, sealError: undefined };
    case 'run:sealed':
      return {
        ...s,
        sealing: false,
        sealError: a.error,
        end: s.end && a.bundle ? { ...s.end, bundle: a.bundle } : s.end,
      };
    default:
      return s;
  }
}

/** True while the engine is working: leaving the screen or quitting must go through abort. */
export function runActive(s: RunState): boolean {
  return s.phase === 'starting' || s.phase === 'running';
}
