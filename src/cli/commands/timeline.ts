import path from 'node:path';
import { UserError } from '../../errors.js';
import { isIncidentDir } from '../../evidence/incident-dir.js';
import { buildTimeline } from '../../timeline/build.js';
import type { TimelineEvent } from '../../timeline/event.js';
import { TextSink } from '../../timeline/exporters/sink.js';
import { extractors } from '../../timeline/extractors/index.js';
import {
  checkZone,
  keep,
  parseBound,
  TIME_OF_DAY,
  type TimelineFilter,
} from '../../timeline/filter.js';
import { timelineFile } from '../../findings/compute.js';
import { readTimelineJsonl } from '../../timeline/read.js';
import { tz } from '@date-fns/tz';
import { format } from 'date-fns';
import { openCaseSource, type CaseSource } from '../../evidence/case-source.js';
import { TimelineTable } from '../../timeline/table.js';
import { writeTimeline } from '../../timeline/write.js';
import { safeText } from '../../util/sanitize.js';
import { resolveCase, readablePath } from '../../app/case-ref.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';
import { outputWidth } from '../width.js';
import { incidentTimeline } from './timeline-incident.js';

import { TIMELINE_FORMATS, type TimelineFormat } from './timeline-formats.js';

export { TIMELINE_FORMATS, type TimelineFormat };

export interface TimelineCommandOptions extends GlobalOptions {
  /** A case id, unique prefix, case folder or bundle (app/case-ref.ts). */
  input: string;
  from?: string;
  to?: string;
  source?: string[];
  grep?: string;
  format?: TimelineFormat;
  tz?: string;
  limit?: number;
  /** Table width (default: COLUMNS, else the terminal's; a pipe or file is never cut). */
  columns?: number;
  /** Never cut the table. */
  wide?: boolean;
}

/** `cirt timeline <case-dir | bundle>`: filter and print a case's timeline. Offline: no engine. */
export async function timelineCommand(o: TimelineCommandOptions, io: CommandIO): Promise<number> {
  const zone = checkZone(o.tz ?? 'UTC');
  const format = o.format ?? 'table';
  if (!TIMELINE_FORMATS.includes(format))
    throw new UserError(`Unknown format "${safeText(format)}"`, {
      hint: `Use one of ${TIMELINE_FORMATS.join(', ')}.`,
    });
  const known = extractors.names();
  // `--source fs,logs` and `--source fs logs` mean the same.
  const sources = (o.source ?? [])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of sources) {
    if (!known.includes(s))
      throw new UserError(`Unknown source "${safeText(s)}"`, {
        hint: `Sources: ${known.join(', ')}.`,
      });
  }
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1))
    throw new UserError(`--limit must be a positive whole number`);
  let warnings = 0;
  const warn = (m: string): void => {
    if (++warnings <= 20) println(io.err, `cirt: warning: ${safeText(m)}`);
  };
  // An incident folder: every case's timeline merged, with a container column.
  const incidentDir = path.resolve(io.cwd, o.input);
  const incident = isIncidentDir(incidentDir)
    ? await incidentTimeline(incidentDir, { sources: sources.length ? sources : undefined, warn })
    : undefined;
  const src = incident
    ? undefined
    : await openCaseSource(readablePath(resolveCase(o.input, appEnv(o, io))), { warn });
  // `--from 07:34` is that time on the day the case was collected, as `@07:34` is in the TUI.
  const day =
    src && [o.from, o.to].some((t) => t && TIME_OF_DAY.test(t.trim()))
      ? await collectionDay(src, zone)
      : undefined;
  const filter: TimelineFilter = {
    from: o.from ? parseBound(o.from, zone, '--from', day) : undefined,
    to: o.to ? parseBound(o.to, zone, '--to', day) : undefined,
    sources: sources.length ? new Set(sources) : undefined,
    grep: o.grep ? o.grep.toLowerCase() : undefined,
  };
  if (filter.from !== undefined && filter.to !== undefined && filter.from > filter.to) {
    throw new UserError(
      `--from ${safeText(o.from)} is after --to ${safeText(o.to)}: no event can match`,
      { hint: 'Swap the two times.' },
    );
  }
  const written = src ? await timelineFile(src) : undefined;
  const events: AsyncIterable<TimelineEvent> = incident
    ? incident.events
    : written
      ? readTimelineJsonl(src!, written, warn)
      : (
          await buildTimeline(src!, {
            sources: sources.length ? sources : undefined,
            onWarning: warn,
          })
        ).events;

  let shown = 0;
  let more = false;
  async function* selected(): AsyncGenerator<TimelineEvent> {
    for await (const e of events) {
      if (!keep(e, filter)) continue;
      if (o.limit !== undefined && shown >= o.limit) {
        more = true;
        return;
      }
      shown++;
      yield e;
    }
  }
  if (format === 'table') {
    const out = new TextSink(io.out);
    const table = new TimelineTable(
      outputWidth(io, o),
      zone,
      incident ? { width: incident.widest } : undefined,
    );
    await out.write(`${table.header()}\n`);
    for await (const e of selected()) await out.write(`${table.row(e)}\n`);
    await out.flush();
  } else {
    // The file formats are written exactly as evidence:timeline writes them.
    await writeTimeline(inBatches(selected()), { [format]: io.out });
  }
  if (warnings > 20) println(io.err, `cirt: ${warnings} warnings in all`);
  if (format === 'table')
    println(
      io.err,
      `${shown} event${shown === 1 ? '' : 's'}${more ? ` (stopped at --limit ${o.limit})` : ''} from ${incident ? `the ${incident.cases} cases of the incident` : safeText(written ?? 'the artifacts (no timeline.jsonl yet)')}`,
    );
  return 0;
}

/** yyyy-mm-dd (in `zone`) of when the case's run ended, else started; today if case.json says neither. */
async function collectionDay(src: CaseSource, zone: string): Promise<string> {
  let when: string | undefined;
  try {
    const info = JSON.parse(await src.readText('case.json')) as {
      finishedAt?: unknown;
      startedAt?: unknown;
    };
    when = [info.finishedAt, info.startedAt].find((x): x is string => typeof x === 'string');
  } catch {
    // No readable case.json: today, as the TUI does without events.
  }
  const ms = when ? Date.parse(when) : Date.now();
  return format(Number.isNaN(ms) ? Date.now() : ms, 'yyyy-MM-dd', { in: tz(zone) });
}

async function* inBatches(
  events: AsyncIterable<TimelineEvent>,
  size = 1000,
): AsyncGenerator<TimelineEvent[]> {
  let batch: TimelineEvent[] = [];
  for await (const e of events) {
    batch.push(e);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}
