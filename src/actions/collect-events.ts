import { Readable, Writable } from 'node:stream';
import type Docker from 'dockerode';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { engineMessage } from '../docker/errors.js';
import { engineStream } from '../docker/raw.js';
import { rfc3339ToSeconds } from '../util/times.js';
import { safeText } from '../util/sanitize.js';
import { LineSplitter, tee } from '../util/streams.js';

interface EngineEvent {
  Type?: string;
  Action?: string;
  time?: number;
  timeNano?: number;
}

/** What the event lines tell us about the history's completeness, gathered while they stream past. */
function analyzer(): { sink: Writable; stats: { count: number; bad: number; earliestNano?: number; hasCreate: boolean; actions: Record<string, number> } } {
  const stats = { count: 0, bad: 0, earliestNano: undefined as number | undefined, hasCreate: false, actions: {} as Record<string, number> };
  const sink = new Writable({
    objectMode: true,
    write(line: Buffer, _enc, cb) {
      if (!line.length) return cb();
      stats.count++;
      try {
        const e = JSON.parse(line.toString('utf8')) as EngineEvent;
        // exec_create/exec_start carry the command after a colon: count by verb.
        const verb = String(e.Action ?? '?').split(':')[0];
        stats.actions[verb] = (stats.actions[verb] ?? 0) + 1;
        if (e.Type === 'container' && e.Action === 'create') stats.hasCreate = true;
        const t = typeof e.timeNano === 'number' ? e.timeNano : typeof e.time === 'number' ? e.time * 1e9 : undefined;
        if (t !== undefined && (stats.earliestNano === undefined || t < stats.earliestNano)) stats.earliestNano = t;
      } catch {
        stats.bad++;
      }
      cb();
    },
  });
  return { sink, stats };
}

export const collectEvents = defineAction({
  name: 'collect:events',
  description:
    "Collect the engine's events about the container (create, start, exec, pause, network…) from its creation until now, raw, one JSON object per line. The engine keeps only its last 256 events: when the history does not reach back to the container's creation, the case says so.",
  example: '- uses: collect:events',
  params: z.strictObject({}),
  mutates: false,
  plan: (_p, t) => `copy the engine's event history about ${t.name} into container/events.jsonl`,
  async check(ctx) {
    await ctx.inspect();
  },
  async run(ctx) {
    const info = await ctx.inspect();
    const created = rfc3339ToSeconds(info.Created);
    const since = created === undefined ? '0' : String(Math.floor(created));
    const until = (Date.now() / 1000).toFixed(3);
    const filters = { container: [ctx.target.id] };
    const source = `GET /events?since=${since}&until=${until}&filters=${JSON.stringify(filters)}`;
    // until=now makes the engine return its buffer and close; the timeout only guards a stuck engine.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]);
    let res;
    try {
      res = await engineStream(ctx.docker, '/events', { since, until, filters }, signal);
    } catch (err) {
      throw new FailureError(`the engine refused its events for ${safeText(ctx.target.name)}: ${engineMessage(err)}`, { hint: 'Check the engine, then re-run the step.', cause: err });
    }
    // Network connect/disconnect events have the network as their actor, so the container filter
    // misses them (engine 20.10); they name the container in their attributes.
    const netFilters = { type: ['network'] };
    const network = await networkEventsOf(ctx.docker, ctx.target.id, { since, until, filters: netFilters }, signal).catch((err: unknown) => {
      ctx.warn(`network events could not be read: ${engineMessage(err)}`);
      return [] as string[];
    });
    const fullSource = `${source}, then GET /events?since=${since}&until=${until}&filters=${JSON.stringify(netFilters)} (only those naming the container)`;
    const handle = await ctx.artifact('container/events.jsonl', { mediaType: 'application/x-ndjson', source: fullSource });
    const lines = new LineSplitter();
    const { sink, stats } = analyzer();
    const analysed = pipeline(lines, sink);
    // Awaited below, after the copy: until then its failure must not count as unhandled.
    analysed.catch(() => undefined);
    let failure: Error | undefined;
    await tee(appendLines(res, network), [handle.stream, lines]).catch((e: Error) => {
      failure = e;
    });
    const entry = await handle.done(failure);
    await analysed;
    if (failure) {
      throw new FailureError(`reading the engine's events for ${safeText(ctx.target.name)} failed: ${failure.message}`, {
        hint: `${stats.count} events arrived and are kept in ${entry.path}; re-run the step.`,
        cause: failure,
      });
    }
    if (stats.bad) ctx.warn(`${stats.bad} event line(s) were not JSON (kept as they came)`);
    const earliest = stats.earliestNano === undefined ? 'none' : new Date(stats.earliestNano / 1e6).toISOString();
    let complete = true;
    if (!stats.hasCreate) {
      complete = false;
      const reason = `engine event history incomplete: no 'create' event for ${ctx.target.name} (created ${info.Created}); earliest event returned: ${earliest}. The engine keeps only its last 256 events, so older ones are lost.`;
      // The engine's own bound, not this step's failure: a limitation of the evidence (the step stays ok).
      await ctx.case.noteLimitation(ctx.stepId, reason);
      ctx.warn(reason);
    }
    return {
      status: 'ok',
      summary: `${stats.count} engine events since the container's creation${complete ? '' : ' (history incomplete: the engine kept only its last 256)'}`,
      details: { events: stats.count, networkEvents: network.length, actions: stats.actions, earliest, complete, since, until },
    };
  },
});

/** The engine's buffer holds at most 256 events: a bounded read is no risk to memory. */
const MAX_NETWORK_EVENT_BYTES = 16 * 1024 * 1024;

/** Network events (connect/disconnect…) whose attributes name the container, as raw JSON lines. */
async function networkEventsOf(docker: Docker, id: string, query: Record<string, unknown>, signal: AbortSignal): Promise<string[]> {
  const res = await engineStream(docker, '/events', query, signal);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_NETWORK_EVENT_BYTES) throw new Error(`more than ${MAX_NETWORK_EVENT_BYTES} bytes of network events`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').split('\n').filter((line) => {
    if (!line.trim()) return false;
    try {
      const e = JSON.parse(line) as { Actor?: { Attributes?: { container?: unknown } } };
      return e.Actor?.Attributes?.container === id;
    } catch {
      return false;
    }
  });
}

/** The container's event stream, then the extra lines (the timeline sorts by time). */
function appendLines(first: Readable, extra: string[]): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of first) yield chunk as Buffer;
      for (const line of extra) yield Buffer.from(`${line}\n`);
    })(),
  );
}
