import readline from 'node:readline';
import type { IncidentListener, TargetInfo } from '../../app/incident-events.js';
import { startIncident, type IncidentSummary } from '../../app/incident-run.js';
import type { EngineHandle } from '../../app/targets.js';
import type { PlannedStep } from '../../runner/events.js';
import type { Approval } from '../../runner/outcome.js';
import { safeText } from '../../util/sanitize.js';
import { appEnv, println, rawTerminal, type CommandIO, type GlobalOptions } from '../io.js';
import { incidentJsonReporter, incidentReporter } from '../reporters/incident.js';
import { parseAnswer } from './run.js';

export interface IncidentRunOptions extends GlobalOptions {
  playbook: string;
  targets: string[];
  filters: string[];
  all?: boolean;
  maxTargets?: number;
  incidentId?: string;
  title?: string;
  ticket?: string;
  yes?: boolean;
  dryRun?: boolean;
  json?: boolean;
  signKey?: string;
  signal?: AbortSignal;
  listeners?: IncidentListener[];
  /** Answers the one approval for the set (tests). */
  approveSet?: (set: { targets: TargetInfo[]; steps: PlannedStep[] }) => Promise<Approval>;
  engines?: EngineHandle[];
  /** `--engines all|a,b`. */
  engineNames?: string;
}

/** `cirt run PLAYBOOK -t a -t b | --filter …`: one incident, every target in one process. */
export async function incidentRunCommand(
  o: IncidentRunOptions,
  io: CommandIO,
): Promise<IncidentSummary> {
  const signal = o.signal ?? new AbortController().signal;
  const approveSet =
    o.approveSet ??
    (io.interactive
      ? (set: { targets: TargetInfo[]; steps: PlannedStep[] }) => askForSet(set, io, signal)
      : undefined);
  return startIncident(
    {
      playbook: o.playbook,
      targets: o.targets,
      filters: o.filters,
      all: o.all,
      maxTargets: o.maxTargets,
      incidentId: o.incidentId,
      title: o.title,
      ticket: o.ticket,
      yes: o.yes,
      dryRun: o.dryRun,
      signKey: o.signKey,
      signal,
      listeners: [
        o.json ? incidentJsonReporter(io.out) : incidentReporter(io.out),
        ...(o.listeners ?? []),
      ],
      approveSet,
      note: (text) => println(io.err, `cirt: ${text}`),
      engines: o.engines,
      engineNames: o.engineNames,
    },
    appEnv(o, io),
  );
}

/** The one question for the whole set: every container and every step that asks, then y / s / a. */
function askForSet(
  set: { targets: TargetInfo[]; steps: PlannedStep[] },
  io: CommandIO,
  signal: AbortSignal,
): Promise<Approval> {
  const several = new Set(set.targets.map((t) => t.engine)).size > 1;
  io.err.write(`Approve for all ${set.targets.length} containers:\n`);
  for (const s of set.steps)
    io.err.write(`  step "${safeText(s.id)}" (${safeText(s.uses)}): ${safeText(s.description)}\n`);
  io.err.write('on:\n');
  for (const t of set.targets)
    io.err.write(
      `  ${safeText(several ? `${t.name}@${t.engine}` : t.name)} (${t.id.slice(0, 12)}, ${safeText(t.image)})\n`,
    );
  const rl = readline.createInterface({ input: process.stdin, output: rawTerminal(io.err) });
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Approval): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      rl.close();
      resolve(a);
    };
    const onAbort = (): void => finish('abort');
    signal.addEventListener('abort', onAbort);
    rl.on('SIGINT', () => {
      io.err.write('\n');
      if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
      finish('abort');
    });
    rl.on('close', () => finish('abort'));
    let unclear = 0;
    const ask = (): void =>
      rl.question(
        '  y run them on every container · s skip those steps everywhere (not contained where they contain) · a run nothing (default) [y/s/A] ',
        (text) => {
          const a = parseAnswer(text);
          if (a) return finish(a);
          if (++unclear >= 3) return finish('abort');
          ask();
        },
      );
    ask();
  });
}
