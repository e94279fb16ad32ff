import readline from 'node:readline';
import { startRun } from '../../app/run.js';
import type { PlannedStep, RunEvent } from '../../runner/events.js';
import type { RunSummary } from '../../runner/runner.js';
import type { Target } from '../../runtime/types.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, type CommandIO, type GlobalOptions } from '../io.js';
import { jsonReporter } from '../reporters/json.js';
import { plainReporter } from '../reporters/plain.js';

export { defaultCaseId } from '../../app/run.js';

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
  approve?: (step: PlannedStep) => Promise<boolean>;
}

/** `cirt run <playbook> --target X`: the app's run, with a text or NDJSON reporter and the terminal for approvals. */
export async function runCommand(o: RunCommandOptions, io: CommandIO): Promise<RunSummary> {
  const signal = o.signal ?? new AbortController().signal;
  const given = o.approve;
  const approve = given ? (s: PlannedStep) => given(s) : io.interactive ? (s: PlannedStep, target: Target) => askOnTerminal(s, target, io, signal) : undefined;
  return startRun(
    {
      playbook: o.playbook,
      target: o.target,
      alert: o.alert,
      caseId: o.caseId,
      title: o.title,
      ticket: o.ticket,
      yes: o.yes,
      dryRun: o.dryRun,
      signKey: o.signKey,
      signal,
      listeners: [o.json ? jsonReporter(io.out) : plainReporter(io.out), ...(o.listeners ?? [])],
      approve,
    },
    appEnv(o, io),
  );
}

/**
 * y/N on the terminal; anything but y/yes is no. readline swallows Ctrl-C in raw mode (no process
 * SIGINT), and a prompt nobody can answer any more would let Node exit 0 mid-run with the case
 * left "running": so Ctrl-C is passed on as the interrupt it is, and Ctrl-D or an abort ends the
 * prompt as "no" (the runner then sees the abort and records the run as interrupted).
 */
function askOnTerminal(step: PlannedStep, target: Target, io: CommandIO, signal: AbortSignal): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: io.err });
  return new Promise((resolve) => {
    let done = false;
    const finish = (yes: boolean): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      resolve(yes);
    };
    const onAbort = (): void => finish(false);
    signal.addEventListener('abort', onAbort);
    rl.on('SIGINT', () => {
      io.err.write('\n');
      // The binary's SIGINT handler aborts the run; without one (in-process use) it is a plain "no".
      if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
      finish(false);
    });
    rl.on('close', () => finish(false));
    if (signal.aborted) return finish(false);
    rl.question(`Approve step "${step.id}" (${step.uses}) on ${safeText(target.name)}: ${safeText(step.plan)}? [y/N] `, (answer) => {
      finish(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
