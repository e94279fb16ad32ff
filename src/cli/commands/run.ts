import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { registry } from '../../actions/index.js';
import { connectEngine } from '../../docker/connection.js';
import { resolveTarget, type Target } from '../../docker/target.js';
import { claimRun } from '../../containment/run-claim.js';
import { UserError } from '../../errors.js';
import { EventBus, type PlannedStep, type RunEvent } from '../../runner/events.js';
import { isContainment, type Approval } from '../../runner/outcome.js';
import { runPlaybook, type RunSummary } from '../../runner/runner.js';
import { actor as custodyActor, CASE_ID, CaseStore, responder } from '../../evidence/case-store.js';
import { loadSigningKey } from '../../evidence/sign.js';
import { writeErrno } from '../../evidence/write-errors.js';
import type { CaseInfo } from '../../evidence/types.js';
import { loadPlaybook, resolvePlaybookPath } from '../../playbook/load.js';
import { toolVersion } from '../../util/pkg.js';
import { safeText } from '../../util/sanitize.js';
import { loadAlert, ONE_ALERT_NOTE, type LoadedAlert } from '../alert.js';
import { resolveAlertTarget } from '../alert-target.js';
import { casesDirOf, println, rawTerminal, type CommandIO, type GlobalOptions } from '../io.js';
import { jsonReporter } from '../reporters/json.js';
import { plainReporter } from '../reporters/plain.js';

export interface RunCommandOptions extends GlobalOptions {
  playbook: string;
  /** Container name/id; may be omitted when `alert` names the container. */
  target?: string;
  /** A Falco alert (file or `-`) naming the container; kept in the case as evidence. */
  alert?: string;
  caseId?: string;
  title?: string;
  ticket?: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  signKey?: string;
  signal?: AbortSignal;
  /** Extra subscribers (the TUI). */
  listeners?: ((e: RunEvent) => void)[];
  /** Answers a step that asks first (the TUI; tests): yes / skip / abort, as the runner takes them. */
  approve?: (step: PlannedStep) => Promise<Approval>;
}

/** `cirt run <playbook> --target X`: validate, connect, resolve, open the case, run. */
export async function runCommand(o: RunCommandOptions, io: CommandIO): Promise<RunSummary> {
  // Everything that can be checked without the engine is checked first.
  const file = resolvePlaybookPath(o.playbook, io.cwd);
  const playbook = loadPlaybook(file, registry);
  if (o.caseId !== undefined && !CASE_ID.test(o.caseId)) {
    throw new UserError(`Case id "${safeText(o.caseId)}" is not allowed`, { hint: 'Use letters, digits, dot, dash and underscore.' });
  }
  const alert = o.alert ? await loadAlert(o.alert) : undefined;
  if (alert?.more) println(io.err, `cirt: note: ${ONE_ALERT_NOTE}`);
  const ref = o.target ?? alert?.target;
  if (!ref) throw new UserError('No container given', { hint: 'Use --target <name|id>, or --alert <falco.json> naming one.' });
  // A bad --sign-key is a usage error found before anything is touched, not a failed seal at the end.
  const signKey = o.signKey ? path.resolve(io.cwd, o.signKey) : undefined;
  if (signKey) loadSigningKey(signKey);
  // A step that needs approval nobody can give would stop the run halfway, with the container
  // already changed: refuse before touching anything instead.
  const canApprove = Boolean(o.yes || o.approve || io.interactive);
  const asking = playbook.steps.filter((s) => s.confirm);
  if (!o.dryRun && !canApprove && asking.length) {
    throw new UserError(
      `Playbook ${playbook.name} has ${asking.length} step(s) that need approval (${asking.map((s) => `"${s.id}" ${s.uses}`).join(', ')}) and nobody can approve them here (no terminal, no --yes); nothing was run`,
      { hint: 'Re-run with --yes to approve them, run it on a terminal to be asked, or use --dry-run to see the plan.' },
    );
  }
  const engine = await connectEngine(o.host, io.env);
  // An alert is untrusted: its id and name (and --target, if given) must all name one container.
  const target = alert ? await resolveAlertTarget(engine.docker, alert, o.target) : await resolveTarget(engine.docker, ref);

  const bus = new EventBus();
  bus.on(o.json ? jsonReporter(io.out) : plainReporter(io.out));
  for (const l of o.listeners ?? []) bus.on(l);
  const signal = o.signal ?? new AbortController().signal;
  const actor = custodyActor();
  const approve = o.approve ?? (io.interactive ? (s: PlannedStep) => askOnTerminal(s, target, io, signal) : undefined);

  if (o.dryRun) {
    return runPlaybook({ playbook, engine, target, dryRun: true, yes: Boolean(o.yes), bus, signal, actor });
  }
  const casesDir = casesDirOf(o, io);
  // The case and the container are held (across processes) until this run ends: see docs/locks.md.
  const claim = claimRun({ casesDir, caseId: o.caseId, defaultId: defaultCaseId(target), target, engine: engine.info.address, command: `cirt run ${playbook.name}`, env: io.env });
  try {
    const caseId = claim.caseId;
    const title = o.title ?? (alert ? `Falco: ${alert.alert.rule}` : undefined);
    const { store } = await CaseStore.openOrCreate(casesDir, caseId, () => newCaseInfo(caseId, target, engine.info, { ...o, title }));
    if (store.sealed) {
      throw new UserError(`Case ${caseId} is already sealed`, { hint: 'Use a new --case id; a sealed case never changes.' });
    }
    if (store.caseInfo.target.id !== target.id) {
      throw new UserError(`Case ${caseId} is about container ${store.caseInfo.target.name} (${store.caseInfo.target.id.slice(0, 12)}), not ${target.name}`, {
        hint: 'Use a new --case id for another container.',
      });
    }
    claim.register();
    for (const t of claim.tookOver) {
      await store.record({ actor, action: 'lock:stale-taken-over', result: 'info', message: `took over the lock ${t.lock} of a cirt that is gone (pid ${t.holder.pid} on ${t.holder.host} since ${t.holder.startedAt}, ${t.holder.command})`, details: { lock: t.lock, holder: t.holder } });
    }
    if (signKey) store.signKeyPath = signKey;
    // A full disk must not keep the run from containing the container: the alert is then only on stderr.
    if (alert) {
      await recordAlert(store, alert, actor).catch((err: unknown) => {
        if (!writeErrno(err)) throw err;
        println(io.err, `cirt: warning: the alert could not be recorded in case ${store.id}: ${safeText((err as Error).message)}`);
      });
    }
    return await runPlaybook({ playbook, engine, target, store, dryRun: false, yes: Boolean(o.yes), approve, bus, signal, actor });
  } finally {
    claim.release();
  }
}

export function defaultCaseId(target: Target, at = new Date()): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const name = target.name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60);
  return `${stamp}-${name}`;
}

function newCaseInfo(id: string, target: Target, engine: CaseInfo["engine"], o: RunCommandOptions): CaseInfo {
  return {
    schema: 'cirt.case/1',
    id,
    ...(o.title ? { title: o.title } : {}),
    ...(o.ticket ? { ticket: o.ticket } : {}),
    responder: responder(),
    host: os.hostname(),
    engine: { address: engine.address, local: engine.local, version: engine.version, apiVersion: engine.apiVersion },
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
    source: alertSource(alert),
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

function alertSource(alert: LoadedAlert): string {
  return `falco alert rule=${alert.alert.rule}`;
}

/**
 * What a typed answer means. Enter is "abort": the safe default stops the run (the seal still runs)
 * and ends it declined, never as a success; anything unrecognised is asked again.
 */
export function parseAnswer(text: string): Approval | undefined {
  const a = text.trim().toLowerCase();
  if (a === 'y' || a === 'yes') return 'yes';
  if (a === 's' || a === 'skip') return 'skip';
  if (a === '' || a === 'a' || a === 'abort') return 'abort';
  return undefined;
}

/** After this many answers it cannot read, the prompt takes the default (abort). */
const MAX_UNCLEAR_ANSWERS = 3;

/**
 * yes / skip / abort on the terminal (Enter = abort). readline swallows Ctrl-C in raw mode (no process
 * SIGINT), and a prompt nobody can answer any more would let Node exit 0 mid-run with the case
 * left "running": so Ctrl-C is passed on as the interrupt it is, and Ctrl-D or an abort ends the
 * prompt as "abort" (the runner then sees the abort signal and records the run as interrupted).
 */
function askOnTerminal(step: PlannedStep, target: Target, io: CommandIO, signal: AbortSignal): Promise<Approval> {
  // readline edits the line with escape codes of its own: it gets the terminal itself, and the
  // prompt's text is made safe here.
  const rl = readline.createInterface({ input: process.stdin, output: rawTerminal(io.err) });
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer: Approval): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      resolve(answer);
    };
    const onAbort = (): void => finish('abort');
    signal.addEventListener('abort', onAbort);
    rl.on('SIGINT', () => {
      io.err.write('\n');
      // The binary's SIGINT handler aborts the run; without one (in-process use) it stops the run.
      if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
      finish('abort');
    });
    rl.on('close', () => finish('abort'));
    if (signal.aborted) return finish('abort');
    const name = safeText(target.name);
    const skipMeans = isContainment(step.uses) ? `skip it and go on (${name} stays NOT CONTAINED)` : 'skip it and go on';
    io.err.write(`Approve step "${safeText(step.id)}" (${safeText(step.uses)}) on ${name}: ${safeText(step.plan)}?\n`);
    const question = `  y run it · s ${skipMeans} · a stop the run, seal what was collected (default) [y/s/A] `;
    let unclear = 0;
    const ask = (): void =>
      rl.question(question, (text) => {
        const answer = parseAnswer(text);
        if (answer) return finish(answer);
        if (++unclear >= MAX_UNCLEAR_ANSWERS) {
          io.err.write('  no clear answer: stopping the run\n');
          return finish('abort');
        }
        io.err.write('  answer y (run it), s (skip it) or a (stop the run)\n');
        ask();
      });
    ask();
  });
}
