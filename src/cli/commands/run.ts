import readline from 'node:readline';
import { startRun } from '../../app/run.js';
import type { PlannedStep, RunEvent } from '../../runner/events.js';
import { isContainment, type Approval } from '../../runner/outcome.js';
import type { RunSummary } from '../../runner/runner.js';
import type { Target } from '../../runtime/types.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, rawTerminal, type CommandIO, type GlobalOptions } from '../io.js';
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
  /** `--journal DIR`: the flight recorder's journal to take the container's history from. */
  journal?: string;
  signal?: AbortSignal;
  /** Extra subscribers (the TUI). */
  listeners?: ((e: RunEvent) => void)[];
  /** Answers a step that asks first (the TUI; tests): yes / skip / abort, as the runner takes them. */
  approve?: (step: PlannedStep) => Promise<Approval>;
}

/** `cirt run <playbook> --target X`: the app's run, with a text or NDJSON reporter and the terminal for approvals. */
export async function runCommand(o: RunCommandOptions, io: CommandIO): Promise<RunSummary> {
  const signal = o.signal ?? new AbortController().signal;
  const given = o.approve;
  const approve = given
    ? (s: PlannedStep) => given(s)
    : io.interactive
      ? (s: PlannedStep, target: Target) => askOnTerminal(s, target, io, signal)
      : undefined;
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
      journal: o.journal,
      signal,
      listeners: [o.json ? jsonReporter(io.out) : plainReporter(io.out), ...(o.listeners ?? [])],
      approve,
      note: (text) => println(io.err, `cirt: ${text}`),
    },
    appEnv(o, io),
  );
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
function askOnTerminal(
  step: PlannedStep,
  target: Target,
  io: CommandIO,
  signal: AbortSignal,
): Promise<Approval> {
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
    const skipMeans = isContainment(step.uses)
      ? `skip it and go on (${name} stays NOT CONTAINED)`
      : 'skip it and go on';
    io.err.write(
      `Approve step "${safeText(step.id)}" (${safeText(step.uses)}) on ${name}: ${safeText(step.plan)}?\n`,
    );
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
