import { goneOr } from '../runtime/target-gone.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { RunRecord } from '../evidence/types.js';
import type { Playbook, PlaybookStep } from './playbook.js';
import type { ContainerRuntime, Target } from '../runtime/types.js';
import { toolVersion } from '../util/pkg.js';
import { makeContext } from './context.js';
import { spaceWarnings } from './run-space.js';
import { errorMessage, hintSuffix, isBug, NotApplicableError } from '../errors.js';
import { now, type EventBus, type PlannedStep, type RunStatus, type StepStatus } from './events.js';
import {
  isContainment,
  RUN_EXIT,
  runMessage,
  runStatus,
  type Approval,
  type ApprovalBy,
  type DeclineFacts,
} from './outcome.js';

export interface RunOptions {
  playbook: Playbook;
  runtime: ContainerRuntime;
  target: Target;
  /** Absent for a dry run: a dry run opens no case and touches nothing. */
  store?: CaseStore;
  dryRun: boolean;
  /** Pre-approves every `confirm` step (scripts). */
  yes: boolean;
  /**
   * Asks a human (TTY/TUI) about a step: `yes` runs it, `skip` declines it and goes on, `abort`
   * declines it and stops the run (always-steps still run). Absent when nobody can answer. An
   * answer may say who gave it (`by`, kept in custody); else it is "interactive prompt".
   */
  approve?: (step: PlannedStep) => Promise<Approval | ApprovalBy>;
  signal: AbortSignal;
  bus: EventBus;
  actor: string;
  /** The flight recorder's journal folder, when there is one: collect:events reads the history from it. */
  journal?: string;
  /** How `yes` was given, for custody (default `--yes`; an incident's one approval for its whole set). */
  approvedBy?: string;
  /**
   * Awaited before each step, whether it will run or be skipped (a multi-target run holds a
   * target's collection here until every target's containment is done: app/incident-run.ts).
   */
  gate?: (index: number) => Promise<void>;
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
  const counts: Record<StepStatus, number> = {
    ok: 0,
    noop: 0,
    partial: 0,
    failed: 0,
    skipped: 0,
    declined: 0,
    planned: 0,
    'not-applicable': 0,
  };
  const store = o.store;
  const live = !o.dryRun && store;
  const warnings = live ? await spaceWarnings(o.runtime, target, store) : [];
  bus.emit({
    type: 'run:start',
    time: now(),
    playbook: { name: pb.name, file: pb.file, description: pb.description },
    target: {
      id: target.id,
      name: target.name,
      image: target.image,
      ...(target.engine ? { engine: target.engine } : {}),
    },
    caseId: store?.id ?? null,
    caseDir: store?.root ?? null,
    dryRun: o.dryRun,
    steps: planned,
    ...(warnings.length ? { warnings } : {}),
  });
  // Custody records and case.json updates the disk refused: the run says so at its end, and fails.
  const unrecorded: string[] = [];
  const finish = (reached: RunStatus, said: string): RunSummary => {
    store?.releaseReserve();
    const lost =
      unrecorded.length > 0 &&
      (reached === 'ok' || reached === 'incomplete' || reached === 'failed');
    const status: RunStatus = lost ? 'failed' : reached;
    const message = unrecorded.length
      ? `${said}; custody or case.json could not be written: ${unrecorded.join('; ')}`
      : said;
    const exitCode = RUN_EXIT[status];
    const bundle = store?.bundle?.path;
    bus.emit({
      type: 'run:end',
      time: now(),
      status,
      exitCode,
      caseId: store?.id ?? null,
      caseDir: store?.root ?? null,
      counts,
      message,
      ...(bundle ? { bundle } : {}),
    });
    return { status, exitCode, counts, message };
  };

  if (o.dryRun || !store) {
    pb.steps.forEach((s, i) => {
      bus.emit({
        type: 'step:start',
        time: now(),
        stepId: s.id,
        index: i,
        uses: s.uses,
        mutates: s.action.mutates,
      });
      counts.planned++;
      bus.emit({
        type: 'step:end',
        time: now(),
        stepId: s.id,
        uses: s.uses,
        status: 'planned',
        message: planned[i].plan,
        durationMs: 0,
      });
    });
    return finish('planned', `dry run: ${pb.steps.length} steps planned, nothing touched`);
  }

  const tgt = { id: target.id, name: target.name };
  // A sealed chain takes no more records (the seal's record says it is the last); anything else the disk refused is reported.
  const record = (s: PlaybookStep | null, input: Parameters<CaseStore['record']>[0]) =>
    store.sealed
      ? Promise.resolve(undefined)
      : store.record({ ...input, step: s?.id, target: tgt }).catch((err: unknown) => {
          unrecorded.push(
            `custody record ${input.action}${s ? ` (step ${s.id})` : ''}: ${errorMessage(err)}`,
          );
          return undefined;
        });
  const saveInfo = (patch: Parameters<CaseStore['updateInfo']>[0]) =>
    store.updateInfo(patch).catch((err: unknown) => {
      unrecorded.push(`case.json: ${errorMessage(err)}`);
    });
  await saveInfo({
    status: 'running',
    runs: [...store.caseInfo.runs, { playbook: pb.name, file: pb.file, startedAt: now() }],
  });
  await record(null, {
    actor: o.actor,
    action: 'run:start',
    result: 'info',
    params: {
      playbook: pb.name,
      file: pb.file,
      steps: pb.steps.map((s) => s.id),
      yes: o.yes,
      tool: `cirt ${toolVersion()}`,
    },
    ...(warnings.length ? { details: { warnings } } : {}),
  });

  let failed = false;
  let blocked = '';
  let aborted = false;
  // The step at which the responder answered "abort": later steps are skipped, always-steps still run.
  let stoppedAt = '';
  const facts: DeclineFacts = { declined: [], notRun: [] };
  let warned = 0;
  let gapped = 0;
  let limited = 0;
  const gapCount = (): number => store.caseInfo.incomplete?.length ?? 0;
  const limitCount = (): number => store.caseInfo.limitations?.length ?? 0;
  const bugs: string[] = [];
  for (const [i, step] of pb.steps.entries()) {
    await o.gate?.(i);
    const skip = (why: string): void => {
      counts.skipped++;
      bus.emit({
        type: 'step:end',
        time: now(),
        stepId: step.id,
        uses: step.uses,
        status: 'skipped',
        message: why,
        durationMs: 0,
      });
    };
    if (o.signal.aborted) aborted = true;
    if (aborted) {
      skip('run interrupted');
      continue;
    }
    if (stoppedAt && !step.always) {
      facts.notRun.push({ id: step.id, uses: step.uses });
      skip(`not run: the responder stopped the run at step "${stoppedAt}"`);
      continue;
    }
    if ((failed || blocked) && !step.always) {
      skip(blocked ? 'run blocked before an unapproved step' : 'an earlier step failed');
      continue;
    }
    const started = Date.now();
    bus.emit({
      type: 'step:start',
      time: now(),
      stepId: step.id,
      index: i,
      uses: step.uses,
      mutates: step.action.mutates,
    });

    if (step.confirm) {
      let answer: Approval | undefined;
      let by = '';
      if (o.yes) [answer, by] = ['yes', o.approvedBy ?? '--yes'];
      else if (o.approve) {
        bus.emit({
          type: 'step:confirm',
          time: now(),
          stepId: step.id,
          uses: step.uses,
          plan: planned[i].plan,
        });
        const got = await o.approve(planned[i]);
        [answer, by] = typeof got === 'string' ? [got, 'interactive prompt'] : [got.answer, got.by];
        // Ctrl-C at the prompt is an interrupt, not a refusal: say so in custody and stop.
        if (o.signal.aborted) {
          aborted = true;
          await record(step, {
            actor: o.actor,
            action: step.uses,
            result: 'interrupted',
            message: 'interrupted while waiting for approval',
            params: step.rawParams,
          });
          skip('run interrupted while waiting for approval');
          continue;
        }
      }
      if (answer === undefined) {
        blocked = `step "${step.id}" (${step.uses}) needs approval: re-run with --yes, or on a terminal to be asked`;
        await record(step, {
          actor: o.actor,
          action: step.uses,
          result: 'refused',
          message: 'needs approval; nobody could approve (no TTY, no --yes)',
          params: step.rawParams,
        });
        skip(blocked);
        continue;
      }
      if (answer !== 'yes') {
        // Declined is its own outcome, never a quiet skip: custody, case.json, the step and the run say so.
        const containment = isContainment(step.uses);
        const notRun =
          answer === 'abort'
            ? pb.steps
                .slice(i + 1)
                .filter((s) => !s.always)
                .map((s) => ({ id: s.id, uses: s.uses }))
            : [];
        const message =
          `declined by the responder at the ${by} (${answer}): not run` +
          (containment ? '; its containment was NOT applied' : '') +
          (answer === 'abort'
            ? `; the run stops here, ${notRun.length} later step(s) not run`
            : '');
        facts.declined.push({ id: step.id, uses: step.uses, answer });
        if (answer === 'abort') stoppedAt = step.id;
        await record(step, {
          actor: o.actor,
          action: step.uses,
          result: 'declined',
          message,
          params: step.rawParams,
          details: { answer, containment, notRun },
        });
        await noteDeclined(store, {
          step: step.id,
          uses: step.uses,
          answer,
          containment,
          at: now(),
        });
        counts.declined++;
        bus.emit({
          type: 'step:end',
          time: now(),
          stepId: step.id,
          uses: step.uses,
          status: 'declined',
          message,
          durationMs: Date.now() - started,
        });
        continue;
      }
      await record(step, {
        actor: o.actor,
        action: step.uses,
        result: 'approved',
        message: `by ${by}`,
        params: step.rawParams,
      });
    }

    const { ctx, written, warnings } = makeContext({
      runtime: o.runtime,
      target,
      store,
      stepId: step.id,
      action: step.uses,
      signal: o.signal,
      bus,
      journal: o.journal,
    });
    const touched = () => written.map((a) => ({ path: a.path, sha256: a.sha256, bytes: a.bytes }));
    const gapsBefore = gapCount();
    const limitsBefore = limitCount();
    try {
      const diskErrorsBefore = store.diskErrors.length;
      await step.action.check?.(ctx, step.params);
      const result = await step.action.run(ctx, step.params);
      // An artifact the disk cut short fails the step even when the action went on regardless.
      if (store.diskErrors.length > diskErrorsBefore) throw store.diskErrors[diskErrorsBefore];
      // A step that noted gaps (whatever the action) did not do all its job: it ends partial, never ok.
      const gaps = gapCount() - gapsBefore;
      gapped += gaps;
      limited += limitCount() - limitsBefore;
      const status: StepStatus = gaps > 0 ? 'partial' : result.status;
      const summary =
        gaps > 0
          ? `${result.summary}; PARTIAL: ${gaps} gap(s) noted in ${store.root}/case.json "incomplete"`
          : result.summary;
      counts[status]++;
      const details = {
        ...result.details,
        ...(warnings.length ? { warnings } : {}),
        ...(gaps > 0 ? { gaps } : {}),
      };
      await record(step, {
        actor: o.actor,
        action: step.uses,
        params: step.rawParams,
        result: status,
        message: summary,
        details: Object.keys(details).length || result.details ? details : undefined,
        artifacts: touched(),
      });
      warned += warnings.length;
      bus.emit({
        type: 'step:end',
        time: now(),
        stepId: step.id,
        uses: step.uses,
        status,
        message: summary,
        durationMs: Date.now() - started,
      });
    } catch (caught) {
      const interrupted = o.signal.aborted;
      // A container removed mid-step is its own condition, whatever error the step saw first.
      const err = interrupted
        ? caught
        : await goneOr(
            caught,
            o.runtime,
            target,
            `step ${step.id} (${step.uses}) could not finish`,
          );
      if (!interrupted && err instanceof NotApplicableError) {
        // Nothing to act on (an exited container has no processes): not a failure, not an ok.
        // The case says so as a limitation of the evidence, and the run goes on.
        const message = errorMessage(err);
        counts['not-applicable']++;
        await record(step, {
          actor: o.actor,
          action: step.uses,
          params: step.rawParams,
          result: 'not-applicable',
          message,
          artifacts: touched(),
        });
        await store.noteLimitation(step.id, `does not apply: ${message}`).catch(() => undefined);
        limited += limitCount() - limitsBefore;
        bus.emit({
          type: 'step:end',
          time: now(),
          stepId: step.id,
          uses: step.uses,
          status: 'not-applicable',
          message,
          durationMs: Date.now() - started,
        });
        continue;
      }
      // A programming error must look like one: named as a bug, its stack kept in custody.
      const bug = !interrupted && isBug(err);
      const message = interrupted
        ? `interrupted: ${errorMessage(err)}`
        : bug
          ? `a bug in cirt: ${bugText(err)}`
          : errorMessage(err);
      const hint = bug
        ? " — please report it with the case's custody.jsonl (it holds the stack)"
        : hintSuffix(err);
      counts.failed++;
      if (bug) bugs.push(step.id);
      await record(step, {
        actor: o.actor,
        action: step.uses,
        params: step.rawParams,
        result: interrupted ? 'interrupted' : 'failed',
        message,
        ...(bug
          ? {
              details: {
                bug: true,
                error: bugText(err),
                stack: (err as Error).stack ?? String(err),
              },
            }
          : {}),
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

  const status = runStatus({ aborted, blocked: Boolean(blocked), counts, facts });
  const message = aborted
    ? 'interrupted; what was collected is kept and can be sealed'
    : blocked || runMessage(counts, facts, warned, gapped, limited, bugs);
  const result = aborted
    ? 'interrupted'
    : status === 'ok' || status === 'incomplete'
      ? status
      : status === 'declined' || status === 'not-contained'
        ? 'declined'
        : 'failed';
  await record(null, { actor: o.actor, action: 'run:end', result, message, details: { status } });
  const caseStatus = {
    ok: 'complete',
    incomplete: 'incomplete',
    failed: 'failed',
    'not-contained': 'not-contained',
    declined: 'declined',
    aborted: 'aborted',
    blocked: 'blocked',
    planned: 'open',
  } as const;
  const runs = store.caseInfo.runs.map((r, idx, all) =>
    idx === all.length - 1 ? { ...r, finishedAt: now(), status } : r,
  );
  await saveInfo({ status: caseStatus[status], finishedAt: now(), runs });
  return finish(status, message);
}

/** case.json keeps the declined steps with the run (written at once: a seal later in the run freezes it). */
async function noteDeclined(
  store: CaseStore,
  d: NonNullable<RunRecord['declined']>[number],
): Promise<void> {
  const runs = store.caseInfo.runs.map((r, idx, all) =>
    idx === all.length - 1 ? { ...r, declined: [...(r.declined ?? []), d] } : r,
  );
  await store.updateInfo({ runs }).catch(() => undefined);
}

/** `TypeError: x is not a function`: the class of a bug tells as much as its message. */
function bugText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
