import { computeFindings } from '../../findings/compute.js';
import { bySeverity } from '../../findings/evaluate.js';
import { lookupEvents } from '../../findings/event-lookup.js';
import { parseFindingsDoc } from '../../findings/read-doc.js';
import { loadRules } from '../../findings/rules.js';
import type { FindingsDoc } from '../../findings/types.js';
import { latestOf } from '../../timeline/artifacts.js';
import { openCaseSource } from '../../evidence/case-source.js';
import { formatTime } from '../../timeline/table.js';
import { EXIT } from '../../errors.js';
import { clip, safeText } from '../../util/sanitize.js';
import { resolveCase, readablePath } from '../../app/case-ref.js';
import { appEnv, println, type CommandIO, type GlobalOptions } from '../io.js';
import { outputWidth } from '../width.js';

export interface FindingsCommandOptions extends GlobalOptions {
  /** A case id, unique prefix, case folder or bundle (app/case-ref.ts). */
  input: string;
  json?: boolean;
  /** Evaluate now (with these rules, or the shipped ones) even if the case has findings.json. */
  rules?: string;
  columns?: number;
  /** Never cut a line. */
  wide?: boolean;
}

/**
 * `cirt findings <case|bundle>`: the case's findings.json, most severe first; a case without one
 * (evidence:findings did not run) is evaluated on the spot. Offline: no engine.
 */
export async function findingsCommand(o: FindingsCommandOptions, io: CommandIO): Promise<number> {
  const warn = (m: string): void => println(io.err, `cirt: warning: ${safeText(m)}`);
  const src = await openCaseSource(readablePath(resolveCase(o.input, appEnv(o, io))), { warn });
  const stored = o.rules ? undefined : latestOf(await src.list(), 'findings.json');
  let doc: FindingsDoc;
  let from: string;
  // A damaged entry is shown as a warning and the others still print; the exit code then says 2.
  let damaged = 0;
  if (stored) {
    const read = parseFindingsDoc(await src.readText(stored), `${src.label}/${stored}`);
    for (const p of read.problems) warn(p);
    damaged = read.problems.length;
    doc = read.doc;
    from = stored;
  } else {
    doc = await computeFindings(src, { rules: loadRules(o.rules), onWarning: warn });
    from = 'evaluated now (the case has no findings.json)';
  }
  const list = bySeverity(Array.isArray(doc.findings) ? doc.findings : []);
  if (o.json) {
    println(io.out, JSON.stringify({ ...doc, findings: list }, null, 2));
    return damaged ? EXIT.usage : EXIT.ok;
  }
  const width = outputWidth(io, o);
  // Show what the first few supporting events say (time, source, message), not their ids.
  const SHOWN = 3;
  const eventIds = (f: (typeof list)[number]): string[] =>
    Array.isArray(f.events) ? f.events.filter((x): x is string => typeof x === 'string') : [];
  const gists = await lookupEvents(src, new Set(list.flatMap((f) => eventIds(f).slice(0, SHOWN))));
  for (const f of list) {
    // findings.json may come from a bundle made elsewhere: print nothing unchecked.
    println(
      io.out,
      clip(
        `${String(f.severity).toUpperCase().padEnd(8)} ${String(f.title)} [${String(f.technique)}] (${String(f.id)})${typeof f.time === 'string' ? ` at ${f.time}` : ''}`,
        width,
      ),
    );
    println(io.out, `         ${clip(String(f.summary ?? ''), Math.max(20, width - 9))}`);
    const ev = (f.evidence ?? [])
      .map(
        (e) =>
          `${e.artifact}${e.ref?.line !== undefined ? `:${e.ref.line}` : e.ref?.entry !== undefined ? `[${e.ref.entry}]` : ''}`,
      )
      .join(', ');
    if (ev) println(io.out, `         ${clip(`evidence: ${ev}`, Math.max(20, width - 9))}`);
    const ids = eventIds(f);
    if (ids.length) println(io.out, `         events (${ids.length}):`);
    for (const id of ids.slice(0, SHOWN)) {
      const g = gists.get(id);
      println(
        io.out,
        `           ${clip(g ? `${formatTime(g.timestamp)} ${g.source.padEnd(7)} ${g.message}` : `${id} (not in the timeline)`, Math.max(20, width - 11))}`,
      );
    }
    if (ids.length > SHOWN)
      println(
        io.out,
        `           … ${ids.length - SHOWN} more (cirt timeline ${safeText(o.input)} --format jsonl)`,
      );
  }
  const counts = list.reduce<Record<string, number>>(
    (m, f) => ({ ...m, [f.severity]: (m[f.severity] ?? 0) + 1 }),
    {},
  );
  // The severity is the file's word, not ours (a tampered findings.json may put anything there).
  const tally = Object.entries(counts)
    .map(([k, v]) => `${v} ${safeText(k)}`)
    .join(', ');
  println(
    io.err,
    `${list.length} finding${list.length === 1 ? '' : 's'}${tally ? ` (${tally})` : ''} — ${safeText(from)}, rules ${safeText(String(doc.rulesVersion ?? '?'))}`,
  );
  if (damaged)
    println(
      io.err,
      `cirt: ${safeText(from)} has ${damaged} damaged entr${damaged === 1 ? 'y' : 'ies'} (warnings above); re-run evidence:findings on the case folder.`,
    );
  return damaged ? EXIT.usage : EXIT.ok;
}
