import type { CaseStore } from '../evidence/case-store.js';
import type { Playbook, PlaybookStep } from './playbook.js';
import type { ContainerRuntime, Target } from '../runtime/types.js';
import { toolVersion } from '../util/pkg.js';
import { makeContext } from './context.js';
import { EXIT, errorMessage, hintSuffix, isBug } from '../errors.js';
import { now, type EventBus, type PlannedStep, type RunStatus, type StepStatus } from './events.js';

export interface RunOptions {
  playbook: Playbook;
  runtime: ContainerRuntime;
  target: Target;
  /** Absent for a dry run: a dry run opens no case and touches nothing. */
  store?: CaseStore;
  dryRun: boolean;
  /** Pre-approves every `confirm` step (scripts). */
  yes: boolean;
  /** Asks a human (TTY/TUI) to approve a step; absent when nobody can answer. */
  approve?: (step: PlannedStep) => Promise<boolean>;
  signal: AbortSignal;
  bus: EventBus;
  actor: string;
}

export interface RunSummary {
  status: RunStatus;
  exitCode: number;
  counts: Record<StepStatus, number>;
  message: string;
}

export function planSteps(pb: Playbook, target: { id: string; name: string }): PlannedStep[] {
  return pb.steps.map((s) => ({
    id: s.id,
    uses: s.uses,
    description: s.action.description,
    mutates: s.action.mutates,
    confirm: s.confirm,
    plan: s.action.plan(s.params, target),
  }));
}

/** Runs a validated playbook's steps in order, emitting events and recording custody. */
export async function runPlaybook(o: RunOptions): Promise<RunSummary> {
  const { playbook: pb, bus, target } = o;
  const planned = planSteps(pb, target);
  const counts: Record<StepStatus, number> = { ok: 0, noop: 0, failed: 0, skipped: 0, planned: 0 };
  const store = o.store;
  bus.emit({
    type: 'run:start',
    time: now(),
    playbook: { name: pb.name, file: pb.file, description: pb.description },
    target: { id: target.id, name: target.name, image: target.image },
    caseId: store?.id ?? null,
    caseDir: store?.root ?? null,
    dryRun: o.dryRun,
    steps: planned,
  });
  const finish = (status: RunStatus, message: string): RunSummary => {
    const exitCode = { ok: EXIT.ok, planned: EXIT.ok, failed: EXIT.failed, blocked: EXIT.usage, aborted: EXIT.interrupted }[status];
    const bundle = store?.bundle?.path;
    bus.emit({ type: 'run:end', time: now(), status, exitCode, caseId: store?.id ?? null, caseDir: store?.root ?? null, counts, message, ...(bundle ? { bundle } : {}) });
    return { status, exitCode, counts, message };
  };

  if (o.dryRun || !store) {
    pb.steps.forEach((s, i) => {
      bus.emit({ type: 'step:start', time: now(), stepId: s.id, index: i, uses: s.uses, mutates: s.action.mutates });
      counts.planned++;
      bus.emit({ type: 'step:end', time: now(), stepId: s.id, uses: s.uses, status: 'planned', message: planned[i].plan, durationMs: 0 });
    });
    return finish('planned', `dry run: ${pb.steps.length} steps planned, nothing touched`);
  }

  const tgt = { id: target.id, name: target.name };
  const record = (s: PlaybookStep | null, input: Parameters<CaseStore['record']>[0]) =>
    store.record({ ...input, step: s?.id, target: tgt }).catch(() => undefined);
  await store.updateInfo({ status: 'running', runs: [...store.caseInfo.runs, { playbook: pb.name, file: pb.file, startedAt: now() }] });
  await record(null, {
    actor: o.actor,
    action: 'run:start',
    result: 'info',
    params: { playbook: pb.name, file: pb.file, steps: pb.steps.map((s) => s.id), yes: o.yes, tool: `cirt ${toolVersion()}` },
  });

  let failed = false;
  let blocked = '';
  let aborted = false;
  const bugs: string[] = [];
  for (const [i, step] of pb.steps.entries()) {
    const skip = (why: string): void => {
      counts.skipped++;
      bus.emit({ type: 'step:end', time: now(), stepId: step.id, uses: step.uses, status: 'skipped', message: why, durationMs: 0 });
    };
    if (o.signal.aborted) aborted = true;
    if (aborted) {
      skip('run interrupted');
      continue;
    }
    if ((failed || blocked) && !step.always) {
      skip(blocked ? 'run blocked before an unapproved step' : 'an earlier step failed');
      continue;
    }
    const started = Date.now();
    bus.emit({ type: 'step:start', time: now(), stepId: step.id, index: i, uses: step.uses, mutates: step.action.mutates });

    if (step.confirm) {
      let approved: boolean | undefined;
      let by = '';
      if (o.yes) [approved, by] = [true, '--yes'];
      else if (o.approve) {
        bus.emit({ type: 'step:confirm', time: now(), stepId: step.id, uses: step.uses, plan: planned[i].plan });
        approved = await o.approve(planned[i]);
        by = 'interactive prompt';
        // Ctrl-C at the prompt is an interrupt, not a refusal: say so in custody and stop.
        if (o.signal.aborted) {
          aborted = true;
          await record(step, { actor: o.actor, action: step.uses, result: 'interrupted', message: 'interrupted while waiting for approval', params: step.rawParams });
          skip('run interrupted while waiting for approval');
          continue;
        }
      }
      if (approved === undefined) {
        blocked = `step "${step.id}" (${step.uses}) needs approval: re-run with --yes, or on a terminal to be asked`;
        await record(step, { actor: o.actor, action: step.uses, result: 'refused', message: 'needs approval; nobody could approve (no TTY, no --yes)', params: step.rawParams });
        skip(blocked);
        continue;
      }
      await record(step, { actor: o.actor, action: step.uses, result: approved ? 'approved' : 'refused', message: `by ${by}`, params: step.rawParams });
      if (!approved) {
        skip('not approved');
        continue;
      }
    }

    const { ctx, written, warnings } = makeContext({ runtime: o.runtime, target, store, stepId: step.id, action: step.uses, signal: o.signal, bus });
    const touched = () => written.map((a) => ({ path: a.path, sha256: a.sha256, bytes: a.bytes }));
    try {
      await step.action.check?.(ctx, step.params);
      const result = await step.action.run(ctx, step.params);
      counts[result.status]++;
      await record(step, {
        actor: o.actor,
        action: step.uses,
        params: step.rawParams,
        result: result.status,
        message: result.summary,
        details: warnings.length ? { ...result.details, warnings } : result.details,
        artifacts: touched(),
      });
      bus.emit({ type: 'step:end', time: now(), stepId: step.id, uses: step.uses, status: result.status, message: result.summary, durationMs: Date.now() - started });
    } catch (err) {
      const interrupted = o.signal.aborted;
      // A programming error must look like one: named as a bug, its stack kept in custody.
      const bug = !interrupted && isBug(err);
      const message = interrupted ? `interrupted: ${errorMessage(err)}` : bug ? `a bug in cirt: ${bugText(err)}` : errorMessage(err);
      const hint = bug ? ' — please report it with the case\'s custody.jsonl (it holds the stack)' : hintSuffix(err);
      counts.failed++;
      if (bug) bugs.push(step.id);
      await record(step, {
        actor: o.actor,
        action: step.uses,
        params: step.rawParams,
        result: interrupted ? 'interrupted' : 'failed',
        message,
        ...(bug ? { details: { bug: true, error: bugText(err), stack: (err as Error).stack ?? String(err) } } : {}),
        artifacts: touched(),
      });
      await store.noteIncomplete(step.id, message).catch(() => undefined);
      bus.emit({
        type: 'step:end',
        time: now(),
        stepId: step.id,
        uses: step.uses,
        status: 'failed',
        message: `${message}${hint}`,
        error: message,
        ...(bug ? { bug: true as const } : {}),
        durationMs: Date.now() - started,
      });
      if (interrupted) aborted = true;
      else if (!step.continueOnError) failed = true;
    }
  }

  const status: RunStatus = aborted ? 'aborted' : blocked ? 'blocked' : counts.failed > 0 ? 'failed' : 'ok';
  const message = aborted
    ? 'interrupted; what was collected is kept and can be sealed'
    : blocked ||
      (status === 'failed'
        ? `${counts.failed} step(s) failed${bugs.length ? ` (${bugs.map((b) => `"${b}"`).join(', ')} hit a bug in cirt: please report it)` : ''}`
        : `${counts.ok + counts.noop} step(s) done`);
  await record(null, { actor: o.actor, action: 'run:end', result: aborted ? 'interrupted' : status === 'ok' ? 'ok' : 'failed', message });
  const caseStatus = { ok: 'complete', failed: 'failed', aborted: 'aborted', blocked: 'blocked', planned: 'open' } as const;
  const runs = store.caseInfo.runs.map((r, idx, all) => (idx === all.length - 1 ? { ...r, finishedAt: now(), status } : r));
  await store.updateInfo({ status: caseStatus[status], finishedAt: now(), runs });
  return finish(status, message);
}

/** `TypeError: x is not a function`: the class of a bug tells as much as its message. */
function bugText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
