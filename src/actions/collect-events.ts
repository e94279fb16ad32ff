import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { runtimeMessage } from '../runtime/errors.js';
import { rfc3339ToSeconds } from '../util/times.js';
import { safeText } from '../util/sanitize.js';
import { LineSplitter, tee } from '../util/streams.js';
import { collectWithJournal } from './events-journal.js';

interface EngineEvent {
  Type?: string;
  Action?: string;
  time?: number;
  timeNano?: number;
}

/** What the event lines tell us about the history's completeness, gathered while they stream past. */
export function analyzer(): {
  sink: Writable;
  stats: {
    count: number;
    bad: number;
    earliestNano?: number;
    hasCreate: boolean;
    actions: Record<string, number>;
  };
} {
  const stats = {
    count: 0,
    bad: 0,
    earliestNano: undefined as number | undefined,
    hasCreate: false,
    actions: {} as Record<string, number>,
  };
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
        const t =
          typeof e.timeNano === 'number'
            ? e.timeNano
            : typeof e.time === 'number'
              ? e.time * 1e9
              : undefined;
        if (t !== undefined && (stats.earliestNano === undefined || t < stats.earliestNano))
          stats.earliestNano = t;
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
    "Collect the engine's events about the container (create, start, exec, pause, network…) from its creation until now, raw, one JSON object per line. The engine keeps only its last 256 events: when the history does not reach back to the container's creation, the case says so. With a flight recorder journal (`--journal`, or the service's), the history comes from the journal, merged with the engine's buffer without duplicates, and the journal's records about the container (events, process and socket snapshots, gaps) are kept as journal/excerpt.jsonl.",
  example: '- uses: collect:events',
  params: z.strictObject({}),
  mutates: false,
  plan: (_p, t) => `copy the engine's event history about ${t.name} into container/events.jsonl`,
  needs: ['inspect', 'events'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx) {
    const facts = await ctx.facts();
    const created = rfc3339ToSeconds(facts.created);
    const since = created === undefined ? '0' : String(Math.floor(created));
    const until = (Date.now() / 1000).toFixed(3);
    // until=now makes the engine return its buffer and close; the timeout only guards a stuck engine.
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(60_000)]);
    let history;
    try {
      history = await ctx.runtime.events(ctx.target, { since, until }, signal);
    } catch (err) {
      throw new FailureError(
        `the engine refused its events for ${safeText(ctx.target.name)}: ${runtimeMessage(err)}`,
        { hint: 'Check the engine, then re-run the step.', cause: err },
      );
    }
    for (const problem of history.problems) ctx.warn(problem);
    if (ctx.journal)
      return collectWithJournal(ctx, ctx.journal, facts, history, { since, until }, analyzer);
    const fullSource = history.source;
    const handle = await ctx.artifact('container/events.jsonl', {
      mediaType: 'application/x-ndjson',
      source: fullSource,
    });
    const lines = new LineSplitter();
    const { sink, stats } = analyzer();
    const analysed = pipeline(lines, sink);
    // Awaited below, after the copy: until then its failure must not count as unhandled.
    analysed.catch(() => undefined);
    let failure: Error | undefined;
    await tee(history.stream, [handle.stream, lines]).catch((e: Error) => {
      failure = e;
    });
    const entry = await handle.done(failure);
    await analysed;
    if (failure) {
      throw new FailureError(
        `reading the engine's events for ${safeText(ctx.target.name)} failed: ${failure.message}`,
        {
          hint: `${stats.count} events arrived and are kept in ${entry.path}; re-run the step.`,
          cause: failure,
        },
      );
    }
    if (stats.bad) ctx.warn(`${stats.bad} event line(s) were not JSON (kept as they came)`);
    const earliest =
      stats.earliestNano === undefined ? 'none' : new Date(stats.earliestNano / 1e6).toISOString();
    let complete = true;
    if (!stats.hasCreate) {
      complete = false;
      const reason = `engine event history incomplete: no 'create' event for ${ctx.target.name} (created ${facts.created}); earliest event returned: ${earliest}. The engine keeps only its last 256 events, so older ones are lost.`;
      // The engine's own bound, not this step's failure: a limitation of the evidence (the step stays ok).
      await ctx.case.noteLimitation(reason);
      ctx.warn(reason);
    }
    return {
      status: 'ok',
      summary: `${stats.count} engine events since the container's creation${complete ? '' : ' (history incomplete: the engine kept only its last 256)'}`,
      details: {
        events: stats.count,
        networkEvents: history.extra,
        actions: stats.actions,
        earliest,
        complete,
        since,
        until,
      },
    };
  },
});
