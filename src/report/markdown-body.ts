import { humanBytes } from '../util/format.js';
import { renderFindingsMarkdown } from '../findings/render.js';
import { approvals, containment, findingViews, keyEvents, timeNote } from './facts.js';
import {
  banners,
  caseFacts,
  gaps,
  keyNote,
  limitations,
  mdText,
  targetFacts,
  verifySteps,
  type ReportInput,
} from './markdown.js';
import { shortSource, statusLine, TOP_FINDINGS, TOP_GAPS } from './summary.js';

/** report.md: the same content as report.html, first screen first. */
export function renderReportMarkdown(r: ReportInput): string {
  const { info } = r;
  const L: string[] = [];
  const row = (cells: unknown[]): string => `| ${cells.map((c) => mdText(c)).join(' | ')} |`;
  const code = (s: string): string => `\`${s.replace(/`/g, '')}\``;
  for (const b of banners(r.records)) L.push(`> **${mdText(b)}**`, '');
  L.push(`# Evidence report: case ${mdText(info.id)}`, '');
  if (info.title) L.push(`**${mdText(info.title)}**`, '');
  L.push(mdText(statusLine(r), 800), '');

  const views = findingViews(r);
  const { measures, state } = containment(r.records);
  const g = gaps(r);
  L.push('## Summary', '', '### What happened', '');
  if (!r.findings) L.push('No findings: the evidence:findings step did not run.');
  else if (!views.length) L.push('No finding: no rule matched the collected evidence.');
  for (const v of views.slice(0, TOP_FINDINGS))
    L.push(
      `- **${mdText(v.f.severity)}** ${v.time ? `${mdText(v.time)} ` : ''}${mdText(v.f.title)} — ${mdText(v.f.summary, 200)}`,
    );
  if (views.length > TOP_FINDINGS) L.push(`- … ${views.length - TOP_FINDINGS} more under Findings`);
  L.push('', '### What was done to the container', '');
  for (const s of state) L.push(`- ${mdText(s)}`);
  for (const m of measures)
    L.push(
      `- ${mdText(m.action)} (step ${mdText(m.step)}): **${mdText(m.outcome)}** — ${mdText(m.message, 200)}`,
    );
  if (!measures.length) L.push('- no containment step ran');
  L.push('', '### What is missing', '');
  if (!g.length) L.push('Nothing: every step that ran succeeded and every artifact is complete.');
  for (const x of g.slice(0, TOP_GAPS)) L.push(`- **${mdText(x.what)}** — ${mdText(x.why, 200)}`);
  if (g.length > TOP_GAPS) L.push(`- … ${g.length - TOP_GAPS} more under Incomplete`);
  L.push('', '### Who', '', '| | |', '|---|---|');
  for (const [k, v] of caseFacts(r)) L.push(row([k, v]));
  L.push('', '### How to verify', '');
  L.push(`Signing key fingerprint (sha256 of the SPKI DER): ${code(r.key.fingerprint)}`, '');
  L.push(mdText(keyNote(r), 800), '', mdText(timeNote(r), 800), '');
  L.push('```', ...verifySteps(info.id, Boolean(r.tsa)), '```', '');

  L.push('## Timeline of key events', '', '| time (UTC) | who | what | ref |', '|---|---|---|---|');
  for (const e of keyEvents(r, measures)) L.push(row([e.time, e.who, e.what, e.ref]));
  L.push('', '## Target', '', '| | |', '|---|---|');
  for (const [k, v] of targetFacts(info)) L.push(row([k, v]));
  L.push('', renderFindingsMarkdown(r.findings).trimEnd());
  if (views.length) {
    L.push('', '### When and what (indicators)', '');
    for (const v of views)
      L.push(
        `- **${mdText(v.f.id)}** ${v.time ? mdText(v.time) : 'time unknown'}${v.indicators.length ? ` — ${v.indicators.map((i) => code(i)).join(', ')}` : ''}`,
      );
  }
  const ap = approvals(r);
  L.push(
    '',
    `## Actions and approvals (${measures.length} containment, ${ap.length} decisions)`,
    '',
  );
  L.push('| # | time (UTC) | step | action | decision | by / why |', '|---|---|---|---|---|---|');
  for (const a of ap) L.push(row([a.seq, a.time, a.step, a.action, a.result, a.message]));

  const creds = r.extras?.credentials;
  L.push('', `## Credentials the attacker could read (${creds?.list.length ?? 0})`, '');
  L.push(
    'Names only, never values. Whoever controlled the container could read these, and the bundle holds them too: rotate them, and send the bundle encrypted (--encrypt-to).',
    '',
  );
  if (!creds?.list.length)
    L.push('None found by name or pattern in the collected inspect and file indexes.');
  else {
    L.push('| kind | name | where in the case |', '|---|---|---|');
    for (const c of creds.list) L.push(row([c.kind, c.name, c.where]));
    if (creds.capped) L.push('', 'The list stops at 200 entries.');
  }

  L.push('', `## Incomplete (${g.length})`, '');
  if (!g.length) L.push('Nothing: every step that ran succeeded and every artifact is complete.');
  for (const x of g) L.push(`- **${mdText(x.what)}** — ${mdText(x.why)}`);
  const lim = limitations(r);
  if (lim.length) {
    L.push(
      '',
      `## Limitations (${lim.length})`,
      '',
      'Not gaps of a step: facts about the evidence the reader must keep in mind.',
      '',
    );
    for (const x of lim) L.push(`- **${mdText(x.what)}** — ${mdText(x.why)}`);
  }
  L.push(
    '',
    `## Custody (${r.records.length} records)`,
    '',
    'The final record, written after this report, says the case is being sealed.',
    '',
  );
  L.push(
    '| # | time (UTC) | actor | action | step | result | message |',
    '|---|---|---|---|---|---|---|',
  );
  for (const c of r.records)
    L.push(row([c.seq, c.time, c.actor, c.action, c.step ?? '', c.result, c.message ?? '']));
  const total = r.artifacts.reduce((n, a) => n + a.bytes, 0);
  L.push('', `## Evidence inventory (${r.artifacts.length} artifacts, ${humanBytes(total)})`, '');
  L.push(`Sources name the container by its id ${code(info.target.id)}, shortened below.`, '');
  L.push('| path | size | sha256 | step | source | complete |', '|---|---|---|---|---|---|');
  for (const a of r.artifacts)
    L.push(
      `| ${mdText(a.path)} | ${humanBytes(a.bytes)} | ${code(a.sha256)} | ${mdText(a.step)} | ${mdText(shortSource(a.source, info.target.id))} | ${a.complete ? 'yes' : 'NO'} |`,
    );
  for (const u of r.unlisted)
    L.push(
      `| ${mdText(u.path)} | ${humanBytes(u.bytes)} | ${code(u.sha256)} |  | ${mdText(u.why)} | unknown |`,
    );
  L.push('');
  return `${L.join('\n')}\n`;
}
