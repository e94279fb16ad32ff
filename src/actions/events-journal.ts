import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { FailureError } from '../errors.js';
import { copyExcerpt, journalEvents, mergeHistory } from '../journal/case-history.js';
import type { ActionContext } from '../runner/action.js';
import type { ContainerFacts, EventHistory } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';
import { writeChunk } from '../util/streams.js';

/** The engine's buffer is at most 256 events (plus network events naming the container). */
const MAX_ENGINE_BYTES = 32 * 1024 * 1024;

interface Analyzer {
  sink: Writable;
  stats: {
    count: number;
    bad: number;
    earliestNano?: number;
    hasCreate: boolean;
    actions: Record<string, number>;
  };
}

async function engineLines(history: EventHistory): Promise<string[]> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const c of history.stream) {
    bytes += (c as Buffer).length;
    if (bytes > MAX_ENGINE_BYTES) throw new Error(`more than ${MAX_ENGINE_BYTES} bytes of events`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim());
}

/**
 * collect:events with a flight recorder journal: the journal's records about the container go into
 * journal/excerpt.jsonl as stored (each line's hash still checks), and container/events.jsonl holds
 * the journal's events merged by time with the engine's buffer, without duplicates. The case says
 * how far back that reaches (creation, or the journal's start) and names every gap.
 */
export async function collectWithJournal(
  ctx: ActionContext,
  dir: string,
  facts: ContainerFacts,
  history: EventHistory,
  range: { since: string; until: string },
  analyzer: () => Analyzer,
) {
  const name = safeText(ctx.target.name);
  let engine: string[];
  try {
    engine = await engineLines(history);
  } catch (err) {
    throw new FailureError(
      `reading the engine's events for ${name} failed: ${(err as Error).message}`,
      {
        hint: 'Check the engine, then re-run the step.',
        cause: err,
      },
    );
  }
  const excerpt = await ctx.artifact('journal/excerpt.jsonl', {
    mediaType: 'application/x-ndjson',
    source: `flight recorder journal ${dir}: the records about ${ctx.target.id} and the journal-wide ones (journal:start/stop, engine:lost, gap, retention:dropped), as stored`,
  });
  let copied;
  let failure: Error | undefined;
  try {
    copied = await copyExcerpt(dir, ctx.target.id, (line) => writeChunk(excerpt.stream, line));
  } catch (err) {
    failure = err as Error;
  } finally {
    excerpt.stream.end();
  }
  await excerpt.done(failure);
  if (failure || !copied)
    throw new FailureError(
      `reading the journal ${safeText(dir)} for ${name} failed: ${failure?.message}`,
      {
        hint: 'Check the folder with `cirt journal verify`, then re-run the step.',
        cause: failure,
      },
    );
  const { coverage, keys } = copied;

  const handle = await ctx.artifact('container/events.jsonl', {
    mediaType: 'application/x-ndjson',
    source: `flight recorder journal ${dir} (engine:event records about the container), merged by time with ${history.source}, duplicates dropped`,
  });
  const { sink, stats } = analyzer();
  let fromEngine = 0;
  try {
    const journalKeys = keys;
    for (const raw of mergeHistory(journalEvents(dir, ctx.target.id), engine, journalKeys)) {
      await writeChunk(handle.stream, `${raw}\n`);
      sink.write(Buffer.from(raw));
    }
  } catch (err) {
    failure = err as Error;
  } finally {
    handle.stream.end();
    sink.end();
  }
  await finished(sink).catch(() => undefined);
  fromEngine = stats.count - coverage.events;
  const entry = await handle.done(failure);
  if (failure)
    throw new FailureError(
      `writing the merged event history of ${name} failed: ${failure.message}`,
      {
        hint: `${stats.count} events are kept in ${entry.path}; re-run the step.`,
        cause: failure,
      },
    );

  const earliest =
    stats.earliestNano === undefined ? 'none' : new Date(stats.earliestNano / 1e6).toISOString();
  const created = Date.parse(facts.created);
  const reach = coverage.start ?? 'never (the journal is empty)';
  let complete = stats.hasCreate;
  if (!stats.hasCreate) {
    const reason = `engine event history incomplete: no 'create' event for ${ctx.target.name} (created ${facts.created}); the flight recorder's journal reaches back to ${reach}${coverage.dropped ? ' (older segments were dropped by retention)' : " (the journal's start)"} and the engine keeps only its last 256 events; earliest event: ${earliest}.`;
    await ctx.case.noteLimitation(reason);
    ctx.warn(reason);
  }
  // A gap while the container existed is a window where events may be missing.
  const during = coverage.gaps.filter((g) => !(Date.parse(g.to) < created));
  for (const g of during) {
    complete = false;
    const reason = `the flight recorder's journal has a gap from ${g.from} to ${g.to} (${g.reason}): engine events of ${ctx.target.name} in that window are only those the engine still held when recording resumed`;
    await ctx.case.noteLimitation(reason);
    ctx.warn(reason);
  }
  if (stats.bad) ctx.warn(`${stats.bad} event line(s) were not JSON (kept as they came)`);
  return {
    status: 'ok' as const,
    summary: `${stats.count} engine events (${coverage.events} from the flight recorder's journal, ${fromEngine} more from the engine's buffer), ${coverage.snapshots} snapshot records${stats.hasCreate ? ', back to its creation' : `, back to ${reach}`}${during.length ? `; ${during.length} gap(s) in the recording` : ''}`,
    details: {
      events: stats.count,
      networkEvents: history.extra,
      actions: stats.actions,
      earliest,
      complete,
      since: range.since,
      until: range.until,
      journal: {
        dir,
        start: coverage.start ?? null,
        dropped: coverage.dropped,
        records: coverage.records,
        events: coverage.events,
        fromEngine,
        snapshots: coverage.snapshots,
        gaps: during,
      },
    },
  };
}
