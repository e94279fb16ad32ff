import { z } from 'zod';
import { assertTargetPresent } from '../runtime/target-gone.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { isGone } from '../host/proc.js';
import { runtimeMessage } from '../runtime/errors.js';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import { JsonArrayArtifact } from '../collect/json-array.js';
import { writeChunk } from '../util/streams.js';

/** Columns asked of `top`; a PID column is required by the engine. Falls back to the default (`-ef`). */
const PS_ARGS = '-eo pid,ppid,user,etime,args';

async function top(
  ctx: ActionContext,
): Promise<{ data: unknown; processes: number; source: string }> {
  try {
    return await ctx.runtime.top(ctx.target, PS_ARGS);
  } catch (err) {
    ctx.warn(
      `top with ps_args "${PS_ARGS}" failed (${runtimeMessage(err)}); using the engine's default`,
    );
    return ctx.runtime.top(ctx.target);
  }
}

export const collectProcesses = defineAction({
  name: 'collect:processes',
  description:
    "List the container's processes: the engine's `top`, and (when cirt runs on the engine host) per process from the host's /proc: cmdline, exe, cwd, ppid, uid/gid, namespace pid, absolute start time, open files and socket inodes, with the raw /proc text beside. Works on a paused container; never enters it.",
  example: '- uses: collect:processes',
  params: z.strictObject({}),
  mutates: false,
  plan: (_p, t) => `list the processes of ${t.name} (engine top + host /proc/<pid>/…) into proc/`,
  needs: ['inspect', 'top'],
  async check(ctx) {
    await requireLiveTarget(ctx, 'processes');
  },
  async run(ctx) {
    const facts = await requireLiveTarget(ctx, 'processes');
    const initPid = facts.state.pid;
    const t = await top(ctx);
    await ctx.writeJson('proc/top.json', t.data, t.source);
    const topCount = t.processes;

    const view = await hostView(ctx, initPid);
    if (!view.ok) {
      ctx.warn(
        `per-process details not collected: ${view.reason}; run cirt on the engine host for cmdline, fds and start times`,
      );
      return {
        status: 'ok',
        summary: `${topCount} processes from top (no host /proc: ${view.reason})`,
        details: { top: topCount, hostProc: false },
      };
    }
    const host = view.host;
    const btime = await host.bootTime();
    const tck = host.clkTck();
    const pids = await host.containerPids(initPid);
    const list = await JsonArrayArtifact.open(
      ctx,
      'proc/processes.json',
      `/proc/<pid>/{stat,status,cmdline,comm,exe,cwd,fd/} for the pids of pid namespace of ${initPid}`,
    );
    const raw = await ctx.artifact('proc/raw.jsonl', {
      mediaType: 'application/x-ndjson',
      source: '/proc/<pid>/{stat,status,cmdline}',
    });
    const gone: number[] = [];
    const names: string[] = [];
    let failure: Error | undefined;
    try {
      for (const pid of pids) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        try {
          const r = await host.readProcess(pid, btime, tck);
          await list.push(r.proc);
          await writeChunk(raw.stream, `${JSON.stringify(r.raw)}\n`);
          names.push(r.proc.comm);
        } catch (err) {
          // A process may exit between listing and reading: note it, keep going.
          if (!isGone(err)) throw err;
          gone.push(pid);
          ctx.warn(`process ${pid} exited while it was read; skipped`);
        }
      }
      // Processes vanishing one by one is normal; all of them vanishing may be the container removed.
      if (gone.length)
        await assertTargetPresent(
          ctx.runtime,
          ctx.target,
          `${gone.length} of ${pids.length} processes vanished while they were read`,
        );
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      raw.stream.end();
      await raw.done(failure);
      await list.close(failure);
    }
    return {
      status: 'ok',
      summary: `${list.length} processes from the host's /proc (${[...new Set(names)].slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}), ${topCount} from top`,
      details: {
        top: topCount,
        hostProc: true,
        processes: list.length,
        vanished: gone,
        clkTck: tck,
        bootTime: new Date(btime * 1000).toISOString(),
      },
    };
  },
});
