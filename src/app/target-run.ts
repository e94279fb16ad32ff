import { claimRun } from '../containment/run-claim.js';
import { UserError } from '../errors.js';
import { CaseStore } from '../evidence/case-store.js';
import type { Playbook } from '../runner/playbook.js';
import { EventBus, type RunEvent } from '../runner/events.js';
import type { Approval } from '../runner/outcome.js';
import { runPlaybook, type RunSummary } from '../runner/runner.js';
import { defaultCaseId, newCaseInfo } from './run.js';
import type { SelectedTarget } from './targets.js';

/** What one target of an incident needs beyond its engine and container. */
export interface TargetRunOptions {
  playbook: Playbook;
  /** The incident folder: the target's case is made inside it. */
  casesDir: string;
  env: NodeJS.ProcessEnv;
  title?: string;
  ticket?: string;
  signKey?: string;
  yes: boolean;
  approvedBy?: string;
  /** The incident's one answer for every step that asks (absent with `yes`). */
  answer?: Approval;
  signal: AbortSignal;
  actor: string;
  gate: (index: number) => Promise<void>;
  onEvent: (e: RunEvent) => void;
}

/**
 * One target's case of a multi-target run: the same claim (case lock, then container lock), case
 * and runner as a single `cirt run`, in the incident's folder. A container another run holds is
 * refused here (a UserError) and the incident goes on with the others.
 */
export async function runTargetCase(
  t: SelectedTarget,
  o: TargetRunOptions,
): Promise<RunSummary & { caseId: string; caseDir: string; bundle: string | null }> {
  const { target, engine } = t;
  const claim = claimRun({
    casesDir: o.casesDir,
    defaultId: defaultCaseId(target),
    target,
    engine: engine.runtime.info.address,
    command: `cirt run ${o.playbook.name} (incident)`,
    env: o.env,
  });
  try {
    const caseId = claim.caseId;
    const { store } = await CaseStore.openOrCreate(o.casesDir, caseId, () =>
      newCaseInfo(caseId, target, engine.runtime.info, { title: o.title, ticket: o.ticket }),
    );
    if (store.sealed) throw new UserError(`Case ${caseId} is already sealed`);
    claim.register();
    for (const took of claim.tookOver) {
      await store.record({
        actor: o.actor,
        action: 'lock:stale-taken-over',
        result: 'info',
        message: `took over the lock ${took.lock} of a cirt that is gone (pid ${took.holder.pid} on ${took.holder.host} since ${took.holder.startedAt}, ${took.holder.command})`,
        details: { lock: took.lock, holder: took.holder },
      });
    }
    if (o.signKey) store.signKeyPath = o.signKey;
    const bus = new EventBus();
    let bundle: string | null = null;
    bus.on((e) => {
      if (e.type === 'run:end' && e.bundle) bundle = e.bundle;
      o.onEvent(e);
    });
    const answer = o.answer;
    const summary = await runPlaybook({
      playbook: o.playbook,
      runtime: engine.runtime,
      target,
      store,
      dryRun: false,
      yes: o.yes,
      approvedBy: o.approvedBy,
      approve: answer ? () => Promise.resolve(answer) : undefined,
      bus,
      signal: o.signal,
      actor: o.actor,
      gate: o.gate,
    });
    return { ...summary, caseId, caseDir: store.root, bundle };
  } finally {
    claim.release();
  }
}
