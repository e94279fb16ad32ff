import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { InterruptedError } from '../errors.js';
import { buildTimeline } from '../timeline/build.js';
import { extractors } from '../timeline/extractors/index.js';
import { MAX_LOG_LINE } from '../timeline/extractors/logs.js';
import { MAX_LINE } from '../timeline/lines.js';
import { openCaseSource } from '../evidence/case-source.js';
import { writeTimeline } from '../timeline/write.js';

/** Builds the case's timeline from what was collected: JSONL, Timesketch CSV and a mactime bodyfile. */
export const evidenceTimeline = defineAction({
  name: 'evidence:timeline',
  description:
    'Build the timeline of the case from its artifacts (lifecycle, engine events, exec sessions, logs, file changes, image layers, processes, sockets, custody): timeline/timeline.jsonl, timeline/timeline.csv (Timesketch) and timeline/bodyfile (mactime -b). Reads only the case folder.',
  example: '- uses: evidence:timeline',
  params: z.strictObject({
    sources: z
      .array(z.enum(extractors.names() as [string, ...string[]]))
      .min(1)
      .optional()
      .describe('only these extractors (default: all)'),
    maxLineBytes: z
      .number()
      .int()
      .min(1024)
      .max(MAX_LINE)
      .optional()
      .describe(
        `bytes of a log line shown in its event (default ${MAX_LOG_LINE}); the rest is clipped with a marker saying how many bytes (the log file keeps every byte)`,
      ),
  }),
  mutates: false,
  // Reads only the case folder.
  needs: [],
  plan: (p) =>
    `build the case timeline from ${p.sources ? p.sources.join(', ') : 'every source'} (jsonl, Timesketch csv, bodyfile)`,
  async run(ctx, params) {
    const src = await openCaseSource(ctx.case.root);
    const { batches, diag } = await buildTimeline(src, {
      sources: params.sources,
      maxLogLine: params.maxLineBytes,
      onWarning: (m) => ctx.warn(m),
    });
    const meta = (mediaType: string) => ({ mediaType, source: `case artifacts (${src.label})` });
    const jsonl = await ctx.artifact('timeline/timeline.jsonl', meta('application/x-ndjson'));
    const csv = await ctx.artifact('timeline/timeline.csv', meta('text/csv'));
    const body = await ctx.artifact('timeline/bodyfile', meta('text/plain'));
    let failure: unknown;
    let stats;
    try {
      const guarded = (async function* () {
        for await (const batch of batches) {
          if (ctx.signal.aborted) throw new InterruptedError('timeline interrupted');
          yield batch;
        }
      })();
      stats = await writeTimeline(
        guarded,
        { jsonl: jsonl.stream, csv: csv.stream, bodyfile: body.stream },
        (n) => ctx.progress({ message: `${n} events written` }),
      );
    } catch (err) {
      failure = err;
    } finally {
      for (const h of [jsonl, csv, body]) h.stream.end();
    }
    const written = await Promise.all([jsonl.done(), csv.done(), body.done()]);
    if (failure) throw failure;
    diag.finish();
    const s = stats!;
    return {
      status: 'ok',
      summary: `${s.events} events (${
        Object.entries(s.bySource)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }), ${s.files} paths in the bodyfile → ${written.map((w) => w.path).join(', ')}`,
      details: {
        events: s.events,
        bySource: s.bySource,
        first: s.first,
        last: s.last,
        bodyfilePaths: s.files,
        notes: diag.notes,
      },
    };
  },
});
