import path from 'node:path';
import os from 'node:os';
import { registry } from '../actions/index.js';
import { claimRun } from '../containment/run-claim.js';
import { UserError } from '../errors.js';
import { CASE_ID, CaseStore, actor as custodyActor, responder } from '../evidence/case-store.js';
import type { CaseInfo } from '../evidence/types.js';
import { writeErrno } from '../evidence/write-errors.js';
import { checkCapabilities } from '../playbook/capabilities.js';
import { loadPlaybook, resolvePlaybookPath } from '../playbook/load.js';
import { EventBus, type EventListener, type PlannedStep } from '../runner/events.js';
import type { Approval, ApprovalBy } from '../runner/outcome.js';
import { runPlaybook, type RunSummary } from '../runner/runner.js';
import type { ContainerRuntime, RuntimeInfo, Target } from '../runtime/types.js';
import { toolVersion } from '../util/pkg.js';
import { safeText } from '../util/sanitize.js';
import { loadAlert, ONE_ALERT_NOTE, type LoadedAlert } from './alert.js';
import { resolveAlertTarget } from './alert-target.js';
import { applyCaseMeta, checkCaseMeta, META_FIELDS, type CaseMeta } from './case-meta.js';
import { requireJournal } from './journal.js';
import { withStepParams, type StepParams } from './step-params.js';
import { casesDirOf, connect, type AppEnv } from './env.js';
import { applySealPlan, planSeal } from './seal-options.js';

export interface StartRunOptions {
  /** A playbook name (./playbooks, then the shipped ones) or a path. */
  playbook: string;
  /** Container name/id; may be omitted when `alert` names the container. */
  target?: string;
  /** A Falco alert (file or `-`) naming the container; kept in the case as evidence. */
  alert?: string;
  caseId?: string;
  title?: string;
  ticket?: string;
  /** Case number, evidence number, examiner, description, notes (title/ticket above win). */
  meta?: CaseMeta;
  /** --tsa URL: timestamp SHA256SUMS at sealing (RFC 3161). */
  tsa?: string;
  /** --encrypt-to: X.509 certificates the bundle is encrypted to. */
  encryptTo?: string[];
  /** Pre-approves every `confirm` step (scripts). */
  yes?: boolean;
  dryRun?: boolean;
  signKey?: string;
  signal?: AbortSignal;
  /** Reporters: they subscribe to the run's events and never drive it. */
  listeners?: EventListener[];
  /** Asks someone to approve a step (yes / skip / abort); absent when nobody can answer. */
  approve?: (step: PlannedStep, target: Target) => Promise<Approval | ApprovalBy>;
  /** Says something to the operator that is not a run event (a second alert on stdin, an alert the disk refused). */
  note?: (text: string) => void;
  /** The flight recorder's journal folder (`--journal`, or the service's recorder): history beyond the engine's buffer. */
  journal?: string;
  /** A runtime already connected (the TUI keeps one); else one is connected for this run. */
  runtime?: ContainerRuntime;
  /** An alert already read and checked (the service); used instead of `alert`. */
  loadedAlert?: LoadedAlert;
  /** Params per step id, merged over the playbook's (a service rule's, with alert fields filled in). */
  stepParams?: StepParams;
  /** Told the case once it is open and before the playbook runs (the service adds later alerts to it). */
  onCase?: (store: CaseStore) => void;
}

/**
 * Starts a run: validates everything that needs no runtime first (playbook, case id, alert, key,
 * approvals), then connects, checks the runtime can do what the steps need, resolves the target,
 * opens (or continues) the case and runs the playbook. The same for the CLI, the TUI and the service.
 */
export async function startRun(o: StartRunOptions, env: AppEnv): Promise<RunSummary> {
  const file = resolvePlaybookPath(o.playbook, env.cwd);
  const playbook = withStepParams(loadPlaybook(file, registry), o.stepParams);
  if (o.caseId !== undefined && !CASE_ID.test(o.caseId)) {
    throw new UserError(`Case id "${safeText(o.caseId)}" is not allowed`, {
      hint: 'Use letters, digits, dot, dash and underscore.',
    });
  }
  const alert = o.loadedAlert ?? (o.alert ? await loadAlert(o.alert) : undefined);
  if (alert?.more) o.note?.(`note: ${ONE_ALERT_NOTE}`);
  const ref = o.target ?? alert?.target;
  if (!ref)
    throw new UserError('No container given', {
      hint: 'Use --target <name|id>, or --alert <falco.json> naming one.',
    });
  // A bad --sign-key, --tsa or --encrypt-to is a usage error found before anything is touched, not a failed seal at the end.
  const sealPlan = planSeal({ signKey: o.signKey, tsa: o.tsa, encryptTo: o.encryptTo }, env);
  const meta = checkCaseMeta({
    ...o.meta,
    ...(o.title !== undefined ? { title: o.title } : {}),
    ...(o.ticket !== undefined ? { ticket: o.ticket } : {}),
  });
  const journal = o.journal ? path.resolve(env.cwd, o.journal) : undefined;
  if (journal) requireJournal(journal);
  // A step that needs approval nobody can give would stop the run halfway, with the container
  // already changed: refuse before touching anything instead.
  const asking = playbook.steps.filter((s) => s.confirm);
  if (!o.dryRun && !o.yes && !o.approve && asking.length) {
    throw new UserError(
      `Playbook ${playbook.name} has ${asking.length} step(s) that need approval (${asking.map((s) => `"${s.id}" ${s.uses}`).join(', ')}) and nobody can approve them here (no terminal, no --yes); nothing was run`,
      {
        hint: 'Re-run with --yes to approve them, run it on a terminal to be asked, or use --dry-run to see the plan.',
      },
    );
  }
  const runtime = o.runtime ?? (await connect(env));
  checkCapabilities(playbook, runtime.capabilities, `the engine at ${runtime.info.address}`);
  // An alert is untrusted: its id and name (and --target, if given) must all name one container.
  const target = alert
    ? await resolveAlertTarget(runtime, alert, o.target)
    : await runtime.resolve(ref);

  const bus = new EventBus();
  for (const l of o.listeners ?? []) bus.on(l);
  const signal = o.signal ?? new AbortController().signal;
  const actor = custodyActor();
  const ask = o.approve;
  const approve = ask ? (s: PlannedStep) => ask(s, target) : undefined;

  if (o.dryRun) {
    return runPlaybook({
      playbook,
      runtime,
      target,
      dryRun: true,
      yes: Boolean(o.yes),
      bus,
      signal,
      actor,
      journal,
    });
  }
  const casesDir = casesDirOf(env);
  // The case and the container are held (across processes) until this run ends: see docs/locks.md.
  const claim = claimRun({
    casesDir,
    caseId: o.caseId,
    defaultId: defaultCaseId(target),
    target,
    engine: runtime.info.address,
    command: `cirt run ${playbook.name}`,
    env: env.env,
  });
  try {
    const caseId = claim.caseId;
    const title = meta.title ?? (alert ? `Falco: ${alert.alert.rule}` : undefined);
    const { store, created } = await CaseStore.openOrCreate(casesDir, caseId, () =>
      newCaseInfo(caseId, target, runtime.info, { ...meta, title }),
    );
    if (store.sealed) {
      throw new UserError(`Case ${caseId} is already sealed`, {
        hint: 'Use a new --case id; a sealed case never changes.',
      });
    }
    if (store.caseInfo.target.id !== target.id) {
      throw new UserError(
        `Case ${caseId} is about container ${store.caseInfo.target.name} (${store.caseInfo.target.id.slice(0, 12)}), not ${target.name}`,
        {
          hint: 'Use a new --case id for another container.',
        },
      );
    }
    claim.register();
    for (const t of claim.tookOver) {
      await store.record({
        actor,
        action: 'lock:stale-taken-over',
        result: 'info',
        message: `took over the lock ${t.lock} of a cirt that is gone (pid ${t.holder.pid} on ${t.holder.host} since ${t.holder.startedAt}, ${t.holder.command})`,
        details: { lock: t.lock, holder: t.holder },
      });
    }
    applySealPlan(store, sealPlan);
    await applyCaseMeta(store, meta, actor, `cirt run ${playbook.name}`, created);
    // A full disk must not keep the run from containing the container: the alert is then only noted.
    if (alert) {
      await recordAlert(store, alert, actor).catch((err: unknown) => {
        if (!writeErrno(err)) throw err;
        o.note?.(
          `warning: the alert could not be recorded in case ${store.id}: ${safeText((err as Error).message)}`,
        );
      });
    }
    o.onCase?.(store);
    return await runPlaybook({
      playbook,
      runtime,
      target,
      store,
      dryRun: false,
      yes: Boolean(o.yes),
      approve,
      bus,
      signal,
      actor,
      journal,
    });
  } finally {
    claim.release();
  }
}

export function defaultCaseId(target: Target, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const name = target.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return `${stamp}-${name}`;
}

/** case.json of a new case (also a multi-target run's, app/target-run.ts). */
export function newCaseInfo(
  id: string,
  target: Target,
  engine: RuntimeInfo,
  m: CaseMeta,
): CaseInfo {
  const given = Object.fromEntries(META_FIELDS.map((k) => [k, m[k]]).filter(([, v]) => v));
  return {
    schema: 'cirt.case/1',
    id,
    ...given,
    responder: m.responder ?? responder(),
    host: os.hostname(),
    engine: {
      name: engine.name ?? 'default',
      address: engine.address,
      local: engine.local,
      version: engine.version,
      apiVersion: engine.apiVersion,
    },
    tool: { name: 'cirt', version: toolVersion() },
    target: { id: target.id, name: target.name, image: target.image, imageId: target.imageId },
    startedAt: new Date().toISOString(),
    status: 'open',
    runs: [],
  };
}

/** The alert that triggered the run is evidence too: its exact bytes, hashed, and a custody record. */
async function recordAlert(store: CaseStore, alert: LoadedAlert, actor: string): Promise<void> {
  const entry = await store.writeArtifact('alert/falco.json', alert.raw, {
    mediaType: 'application/json',
    source: `falco alert rule=${alert.alert.rule}`,
    action: 'run:alert',
    step: 'alert',
  });
  await store.record({
    actor,
    action: 'alert:received',
    result: 'info',
    message: `Falco rule "${alert.alert.rule}" (${alert.alert.priority ?? 'no priority'}) at ${alert.alert.time ?? 'unknown time'}`,
    artifacts: [{ path: entry.path, sha256: entry.sha256, bytes: entry.bytes }],
  });
}
