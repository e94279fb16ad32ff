import path from 'node:path';
import { z } from 'zod';
import { defineAction, type ActionContext } from '../runner/action.js';
import { FailureError } from '../errors.js';
import type { ManifestEntry } from '../evidence/types.js';
import type { HostView } from '../host/view.js';
import { RuntimeError, runtimeMessage } from '../runtime/errors.js';
import { ENGINE_TIME, toEngineTime } from '../util/times.js';
import { safeText } from '../util/sanitize.js';

const time = z
  .string()
  .regex(
    ENGINE_TIME,
    'Unix seconds (1700000000.5), RFC 3339 (2026-11-28T20:17:00Z) or a duration back from now (90s, 15m, 2h, 7d)',
  );

const params = z.strictObject({
  since: time.optional().describe('only lines at or after this time'),
  until: time.optional().describe('only lines at or before this time'),
  tail: z
    .union([z.literal('all'), z.number().int().min(0)])
    .default('all')
    .describe(
      'only the last N lines of the log, stdout and stderr counted together as the engine stores them ("all" for everything)',
    ),
});

/** Copies the engine's own json-file log (and its rotated siblings) as they are on disk. */
async function copyJsonFile(
  ctx: ActionContext,
  host: HostView,
  logPath: string,
): Promise<ManifestEntry[]> {
  const dir = path.dirname(logPath);
  const base = path.basename(logPath);
  let names: string[];
  try {
    // The live file plus the engine's rotated ones (`<log>.1`, `<log>.2.gz`, …).
    names = (await host.readdir(dir))
      .filter(
        (n) => n === base || (n.startsWith(base) && /^\.\d+(\.gz)?$/.test(n.slice(base.length))),
      )
      .sort();
  } catch (err) {
    ctx.warn(
      `the json-file log ${logPath} is not readable here (${(err as Error).message}); only the API copy is kept`,
    );
    return [];
  }
  const out: ManifestEntry[] = [];
  for (const n of names) {
    const fh = await host.open(path.join(dir, n));
    const suffix = n.slice(base.length);
    out.push(
      await ctx.writeArtifact(`logs/json-file.log${suffix}`, fh.createReadStream(), {
        mediaType: 'application/x-ndjson',
        source: path.join(dir, n),
      }),
    );
  }
  return out;
}

export const collectLogs = defineAction({
  name: 'collect:logs',
  description:
    "Collect the container's stdout and stderr from the engine, demuxed, every line prefixed with the engine's RFC3339Nano time (TTY containers: one raw tty.log). Escape sequences are kept byte for byte. When the json-file log is readable on this host it is also copied raw.",
  example: ['- uses: collect:logs', '  with:', '    since: 24h'].join('\n'),
  params,
  mutates: false,
  plan: (p, t) =>
    `copy the logs of ${t.name}${p.since ? ` since ${p.since}` : ''}${p.until ? ` until ${p.until}` : ''}${p.tail !== 'all' ? ` (last ${p.tail} lines)` : ''} into logs/, streamed and hashed`,
  needs: ['inspect', 'logs'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx, p) {
    const facts = await ctx.facts();
    const tty = facts.tty;
    const query = {
      tail: String(p.tail),
      ...(p.since ? { since: toEngineTime(p.since) } : {}),
      ...(p.until ? { until: toEngineTime(p.until) } : {}),
    };
    const driver = facts.log.driver;
    let logs;
    try {
      logs = await ctx.runtime.logs(facts, query, ctx.signal);
    } catch (err) {
      const s = err instanceof RuntimeError ? err.status : undefined;
      throw new FailureError(
        `the engine refused the logs of ${safeText(ctx.target.name)} (log driver ${driver}): ${runtimeMessage(err)}`,
        {
          hint:
            s === 501 || /does not support reading/.test(runtimeMessage(err))
              ? `The "${driver}" log driver keeps no readable copy; collect the logs where that driver sends them.`
              : 'Check the engine, then re-run the step.',
          cause: err,
        },
      );
    }
    const res = logs.stream;
    ctx.progress({ message: `reading ${tty ? 'the TTY log' : 'stdout and stderr'}` });
    const written: ManifestEntry[] = [];
    let failure: Error | undefined;
    if (tty) {
      // A TTY merges both streams into raw output: nothing to demux.
      const e = await ctx.writeArtifact('logs/tty.log', res, {
        mediaType: 'text/plain',
        source: logs.source,
      });
      written.push(e);
      if (!e.complete) failure = new Error(e.error ?? 'stream failed');
    } else {
      // Progress counts the engine's bytes once, not each artifact's own running total.
      const out = await ctx.artifact('logs/stdout.log', {
        mediaType: 'text/plain',
        source: logs.stdoutSource,
        progress: false,
      });
      const err = await ctx.artifact('logs/stderr.log', {
        mediaType: 'text/plain',
        source: logs.stderrSource,
        progress: false,
      });
      let read = 0;
      res.on('data', (c: Buffer) => ctx.progress({ bytes: (read += c.length) }));
      await logs.split({ stdout: out.stream, stderr: err.stream }).catch((e: Error) => {
        failure = e;
      });
      out.stream.end();
      err.stream.end();
      written.push(await out.done(failure), await err.done(failure));
    }
    if (failure) {
      throw new FailureError(
        `reading the logs of ${safeText(ctx.target.name)} failed: ${failure.message}`,
        {
          hint: `What arrived is kept in ${written.map((w) => w.path).join(', ')}; re-run the step for a complete copy.`,
          cause: failure,
        },
      );
    }
    const logPath = facts.log.path;
    if (driver === 'json-file' && logPath && ctx.host)
      written.push(...(await copyJsonFile(ctx, ctx.host, logPath)));
    else if (driver === 'json-file' && logPath)
      ctx.warn(`the json-file log is on the engine host (${logPath}); only the API copy is kept`);
    const total = written.reduce((n, w) => n + w.bytes, 0);
    return {
      status: 'ok',
      summary: `${written.map((w) => `${w.path} (${w.bytes} bytes)`).join(', ')}`,
      details: {
        tty,
        driver,
        bytes: total,
        since: query.since ?? null,
        until: query.until ?? null,
        tail: p.tail,
      },
    };
  },
});
