import { z } from 'zod';
import { captureProcess, type CapturedProcess } from '../collect/proc-capture.js';
import { hostView } from '../collect/live-target.js';
import { RECORD_PATHS, containerRef } from '../containment/records.js';
import { FailureError, PreconditionError } from '../errors.js';
import { isGone } from '../host/proc.js';
import { sameProcess, type ProcIdentity } from '../host/proc-signal.js';
import type { HostView } from '../host/view.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { bytesParam } from '../util/bytes-param.js';
import { safeText } from '../util/sanitize.js';

const pidParam = (what: string) => z.number().int().min(1).max(4_194_304).optional().describe(what);

const params = z
  .strictObject({
    pid: pidParam('The pid inside the container (Falco: proc.vpid).'),
    hostPid: pidParam("The pid on the engine's host (Falco: proc.pid)."),
    comm: z
      .string()
      .min(1)
      .max(64)
      .optional()
      .describe(
        'The process name exactly as /proc/<pid>/comm has it (at most 15 characters there).',
      ),
    cmdline: z
      .string()
      .min(1)
      .max(4096)
      .optional()
      .describe('Text the command line (arguments joined by spaces) contains.'),
    all: z
      .boolean()
      .default(false)
      .describe(
        'With comm / cmdline: signal every match instead of refusing when more than one matches.',
      ),
    signal: z
      .enum(['SIGKILL', 'SIGTERM'])
      .default('SIGKILL')
      .describe('SIGKILL (default) or SIGTERM.'),
    waitMs: z
      .number()
      .int()
      .min(0)
      .max(60_000)
      .default(2_000)
      .describe('How long to wait for the process to be gone before the step fails.'),
    maxFileBytes: bytesParam(
      '16MiB',
      'Budget for each /proc text file captured (environ, maps, …).',
    ),
    maxExeBytes: bytesParam(
      '256MiB',
      'Budget for the executable captured through /proc/<pid>/exe.',
    ),
  })
  .refine(
    (p) => [p.pid, p.hostPid, p.comm, p.cmdline].filter((v) => v !== undefined).length === 1,
    { message: 'give exactly one of pid, hostPid, comm or cmdline' },
  )
  .refine((p) => !p.all || p.comm !== undefined || p.cmdline !== undefined, {
    message: '`all: true` only goes with comm or cmdline',
  });
type Params = z.output<typeof params>;

/** One candidate process of the container, as the host sees it. */
interface Candidate {
  id: ProcIdentity;
  cmdline: string;
}

const describeChoice = (p: Params): string =>
  p.pid !== undefined
    ? `pid ${p.pid} in the container`
    : p.hostPid !== undefined
      ? `host pid ${p.hostPid}`
      : p.comm !== undefined
        ? `the process named ${JSON.stringify(p.comm)}${p.all ? ' (every one)' : ''}`
        : `the process whose command line contains ${JSON.stringify(p.cmdline)}${p.all ? ' (every one)' : ''}`;

export const containKillProcess = defineAction({
  name: 'contain:kill-process',
  description:
    'Kill one process of the container from the host, leaving the rest running: chosen by its pid in the container, ' +
    "its host pid (Falco's proc.pid), or a comm / cmdline match that must name exactly one process (unless `all: true`). " +
    'Before the signal its /proc state (cmdline, environ, status, stat, maps, fds, and the executable with its hash) ' +
    'is copied into the case; the signal goes to the host pid only after re-checking its start time; then the step ' +
    'checks it is gone. Never enters the container. Needs cirt on the engine host. Not undone by release.',
  example: ['- id: kill-miner', '  uses: contain:kill-process', '  with:', '    comm: xmrig'].join(
    '\n',
  ),
  params,
  mutates: true,
  confirmByDefault: true,
  plan: (p, t) =>
    `copy the /proc state of ${describeChoice(p)} of ${t.name}, then send it ${p.signal} from the host (the rest keeps running)`,
  // The host's /proc is where the process is found, copied and signalled: a remote engine has none.
  needs: ['inspect', 'host-proc'],
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    // A container with no process left has nothing to kill: a re-run after it stopped is a noop.
    if (!facts.state.pid)
      return {
        status: 'noop',
        summary: `${ref.name} is ${facts.state.status}: it has no process to signal`,
      };
    const view = await hostView(ctx, facts.state.pid);
    if (!view.ok)
      throw new PreconditionError(`cannot reach the processes of ${ref.name}: ${view.reason}`, {
        hint: 'Run cirt on the engine host (as root); contain:kill or contain:stop work from anywhere.',
      });
    const host = view.host;
    const chosen = await choose(ctx, host, facts.state.pid, p);
    if (!chosen.length)
      return {
        status: 'noop',
        summary: `no process of ${ref.name} is ${describeChoice(p)} (already gone?): nothing signalled`,
        details: { choice: describeChoice(p) },
      };
    const live = chosen.filter((c) => c.id.state !== 'Z' && c.id.state !== 'X');
    if (!live.length)
      return {
        status: 'noop',
        summary: `${list(chosen)} already dead (zombie: waiting for its parent to reap it): nothing signalled`,
        details: { processes: chosen.map((c) => c.id) },
      };

    const budgets = { textBytes: p.maxFileBytes, exeBytes: p.maxExeBytes };
    const captured: { c: Candidate; cap: CapturedProcess | null }[] = [];
    for (const c of live) {
      try {
        const cap = await captureProcess(ctx, host, c.id.pid, budgets);
        for (const why of cap.problems) await ctx.case.noteGap(why);
        captured.push({ c, cap });
      } catch (err) {
        if (!isGone(err)) throw err;
        captured.push({ c, cap: null });
      }
    }
    const record = await ctx.writeJson(
      RECORD_PATHS.killProcess,
      {
        schema: 'cirt.containment.kill-process/1',
        container: ref,
        caseId: ctx.case.id,
        choice: describeChoice(p),
        signal: p.signal,
        processes: captured.map(({ c, cap }) => ({
          ...c.id,
          cmdline: c.cmdline,
          exeSha256: cap?.exeSha256 ?? null,
          capture: cap?.dir ?? null,
        })),
        at: new Date().toISOString(),
      },
      'host /proc/<pid>/{stat,status,cmdline}',
    );

    const results: ProcessOutcome[] = [];
    for (const { c } of captured) results.push(await signalOne(ctx, host, c, p));
    const paused = (await ctx.runtime.inspect(ref)).state.paused;
    const details = {
      signal: p.signal,
      record: record.path,
      processes: results.map((r) => ({
        pid: r.id.pid,
        nspid: r.id.nspid,
        comm: r.id.comm,
        outcome: r.outcome,
      })),
      captures: captured.map(({ cap }) => cap?.dir ?? null),
      exeSha256: captured.map(({ cap }) => cap?.exeSha256 ?? null),
    };
    const alive = results.filter((r) => r.outcome === 'alive');
    if (alive.length) {
      const who = alive.map((r) => `${safeText(r.id.comm)} (host pid ${r.id.pid})`).join(', ');
      if (paused)
        throw new FailureError(
          `${p.signal} was sent to ${who} of ${ref.name}, but the container is paused: a frozen process cannot die ` +
            'until it is thawed (cgroup v1 freezer); the signal stays pending and kills it on thaw',
          {
            hint: 'Unpause the container (contain:unpause or cirt release) and re-run the step to check it is gone; its /proc state is in the case.',
          },
        );
      throw new FailureError(
        `${who} of ${ref.name} is still running ${p.waitMs} ms after ${p.signal}`,
        {
          hint:
            p.signal === 'SIGTERM'
              ? 'It may ignore SIGTERM: use signal SIGKILL.'
              : 'It may be stuck in the kernel (state D); check /proc/<pid>/status on the host.',
        },
      );
    }
    const killed = results.filter((r) => r.outcome !== 'reused' && r.outcome !== 'gone-before');
    const zombies = results.filter((r) => r.outcome === 'zombie').length;
    return {
      status: killed.length ? 'ok' : 'noop',
      summary: killed.length
        ? `sent ${p.signal} to ${list(killed.map((r) => ({ id: r.id })))} of ${ref.name}: gone${zombies ? ` (${zombies} a zombie until its parent reaps it)` : ''}; its /proc state and executable are in ${captured[0].cap?.dir ?? 'the case'}`
        : `${list(results.map((r) => ({ id: r.id })))} exited before the signal: nothing signalled`,
      details,
    };
  },
});

type Outcome = 'gone' | 'zombie' | 'alive' | 'reused' | 'gone-before';
interface ProcessOutcome {
  id: ProcIdentity;
  outcome: Outcome;
}

const list = (cs: { id: ProcIdentity }[]): string =>
  cs
    .map(
      (c) =>
        `${safeText(c.id.comm)} (host pid ${c.id.pid}, pid ${c.id.nspid ?? '?'} in the container)`,
    )
    .join(', ');

/** The processes of the container the params name (empty when none: already gone). */
async function choose(
  ctx: ActionContext,
  host: HostView,
  initPid: number,
  p: Params,
): Promise<Candidate[]> {
  const pids = await host.containerPids(initPid);
  const name = ctx.target.name;
  if (p.hostPid !== undefined && !pids.includes(p.hostPid)) {
    const other = await host.identity(p.hostPid);
    if (other)
      // An alert's pid may be stale or forged: a host pid outside the container is never signalled.
      throw new PreconditionError(
        `host pid ${p.hostPid} (${safeText(other.comm)}) is not a process of container ${safeText(name)}; nothing was signalled`,
        {
          hint: 'Check the alert: its proc.pid is a host pid (proc.vpid is the container pid, param `pid`).',
        },
      );
    return [];
  }
  const wanted = p.hostPid !== undefined ? [p.hostPid] : pids;
  const found: Candidate[] = [];
  for (const pid of wanted) {
    const id = await host.identity(pid);
    if (!id) continue;
    if (p.pid !== undefined && id.nspid !== p.pid) continue;
    if (p.comm !== undefined && id.comm !== p.comm) continue;
    const cmdline = await readCmdline(host, pid);
    if (p.cmdline !== undefined && !cmdline.includes(p.cmdline)) continue;
    found.push({ id, cmdline });
  }
  if (found.length > 1 && !p.all) {
    throw new PreconditionError(
      `${describeChoice(p)} names ${found.length} processes of ${safeText(name)}: ${list(found.slice(0, 10))}${found.length > 10 ? ', …' : ''}; nothing was signalled`,
      { hint: 'Name one by pid or hostPid, or add `all: true` to signal every match.' },
    );
  }
  return found;
}

async function readCmdline(host: HostView, pid: number): Promise<string> {
  try {
    const fh = await host.open(`/proc/${pid}/cmdline`);
    try {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
      return buf.subarray(0, bytesRead).toString('utf8').replace(/\0+$/, '').split('\0').join(' ');
    } finally {
      await fh.close();
    }
  } catch (err) {
    if (isGone(err)) return '';
    throw err;
  }
}

/** Signals one process after checking it is still the one chosen, then waits for it to be gone. */
async function signalOne(
  ctx: ActionContext,
  host: HostView,
  c: Candidate,
  p: Params,
): Promise<ProcessOutcome> {
  const now = await host.identity(c.id.pid);
  if (!now) return { id: c.id, outcome: 'gone-before' };
  if (!sameProcess(c.id, now) || now.pidNs !== c.id.pidNs) {
    ctx.warn(
      `host pid ${c.id.pid} is another process now (started at tick ${now.startTicks}, not ${c.id.startTicks}): not signalled`,
    );
    return { id: c.id, outcome: 'reused' };
  }
  if (!host.signal(c.id.pid, p.signal)) return { id: c.id, outcome: 'gone-before' };
  const deadline = Date.now() + p.waitMs;
  for (;;) {
    const after = await host.identity(c.id.pid);
    if (!sameProcess(c.id, after)) return { id: c.id, outcome: 'gone' };
    if (after?.state === 'Z' || after?.state === 'X') return { id: c.id, outcome: 'zombie' };
    if (Date.now() >= deadline) return { id: c.id, outcome: 'alive' };
    await new Promise((r) => setTimeout(r, 10));
  }
}
