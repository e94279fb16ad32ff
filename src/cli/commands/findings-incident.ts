import { openIncidentCases } from '../../evidence/incident.js';
import { computeFindings } from '../../findings/compute.js';
import { bySeverity } from '../../findings/evaluate.js';
import { groupFindings, type GroupInput } from '../../findings/group.js';
import { parseFindingsDoc } from '../../findings/read-doc.js';
import { loadRules } from '../../findings/rules.js';
import type { Finding } from '../../findings/types.js';
import { latestOf } from '../../timeline/artifacts.js';
import { EXIT } from '../../errors.js';
import { clip, safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/**
 * `cirt findings INCIDENT`: every case's findings (its findings.json, else evaluated now), grouped
 * across cases — the same rule on the same thing (a shared sha256, or the same summary) is one
 * finding listing each container it was found in. Offline.
 */
export async function findingsIncidentCommand(
  o: { dir: string; input: string; json?: boolean; rules?: string; columns?: number },
  io: CommandIO,
): Promise<number> {
  const warn = (m: string): void => println(io.err, `cirt: warning: ${safeText(m)}`);
  const { manifest, cases } = await openIncidentCases(o.dir, warn);
  let damaged = 0;
  const per: GroupInput[] = [];
  for (const c of cases) {
    const stored = o.rules ? undefined : latestOf(await c.src.list(), 'findings.json');
    let findings: Finding[];
    if (stored) {
      const read = parseFindingsDoc(await c.src.readText(stored), `${c.src.label}/${stored}`);
      for (const p of read.problems) warn(p);
      damaged += read.problems.length;
      findings = Array.isArray(read.doc.findings) ? read.doc.findings : [];
    } else {
      findings = (await computeFindings(c.src, { rules: loadRules(o.rules), onWarning: warn }))
        .findings;
    }
    per.push({
      container: c.container,
      engine: String(c.entry.engine?.name ?? ''),
      caseId: String(c.entry.caseId ?? ''),
      target: { name: String(c.entry.target?.name ?? ''), id: String(c.entry.target?.id ?? '') },
      findings,
    });
  }
  const groups = bySeverity(groupFindings(per));
  if (o.json) {
    println(
      io.out,
      JSON.stringify({ incident: manifest.id, cases: cases.length, groups }, null, 2),
    );
    return damaged ? EXIT.usage : EXIT.ok;
  }
  const width = o.columns ?? ((io.out as { columns?: number }).columns || 100);
  for (const g of groups) {
    // Everything here comes from findings.json files that may have been made elsewhere: clipped, sanitised.
    println(
      io.out,
      clip(
        `${g.severity.toUpperCase().padEnd(8)} ${g.title} [${g.technique}] — in ${g.places.length} container${g.places.length === 1 ? '' : 's'}`,
        width,
      ),
    );
    println(io.out, `         ${clip(g.summary, Math.max(20, width - 9))}`);
    for (const p of g.places) {
      const ev = (p.finding.evidence ?? [])
        .map(
          (e) =>
            `${e.artifact}${e.ref?.line !== undefined ? `:${e.ref.line}` : e.ref?.entry !== undefined ? `[${e.ref.entry}]` : ''}`,
        )
        .join(', ');
      println(
        io.out,
        `           ${clip(`${p.container} (case ${p.caseId}, ${String(p.finding.id)})${ev ? ` ${ev}` : ''}`, Math.max(20, width - 11))}`,
      );
    }
  }
  const places = groups.reduce((n, g) => n + g.places.length, 0);
  println(
    io.err,
    `${groups.length} finding${groups.length === 1 ? '' : 's'} (${places} in all) across ${cases.length} cases of incident ${safeText(manifest.id)}`,
  );
  return damaged ? EXIT.usage : EXIT.ok;
}
