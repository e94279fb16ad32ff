import { humanBytes } from '../util/format.js';
import { renderFindingsHtml } from '../findings/render.js';
import { safeText } from '../util/sanitize.js';
import { approvals, containment, findingViews, keyEvents, timeNote } from './facts.js';
import {
  BAD_RESULTS,
  banners,
  caseFacts,
  gaps,
  keyNote,
  limitations,
  targetFacts,
  verifySteps,
  type ReportInput,
} from './markdown.js';
import { shortSource, statusLine, TOP_FINDINGS, TOP_GAPS } from './summary.js';

/** HTML-escapes text after making control characters visible (a report may be `cat` on a terminal too). */
export function h(s: unknown): string {
  return safeText(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

// Every table is fixed-layout and every cell wraps anywhere: no text the container controls can make
// the page wider than the window. Hashes are 32 monospace characters wide, so they wrap in two lines
// and still copy as one 64-character string.
const CSS = `*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:1em auto;max-width:1240px;padding:0 1em;color:#111}
h1{font-size:22px;margin:.2em 0}h2{font-size:17px;margin:1.2em 0 .4em;border-bottom:1px solid #ddd}
h3{font-size:14px;margin:.7em 0 .25em}
table{border-collapse:collapse;width:100%;table-layout:fixed;margin:.4em 0 1.2em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f3f3f3}code,pre,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
code{overflow-wrap:anywhere}code.hash{display:inline-block;width:32.5ch;word-break:break-all}
code.fp{display:block;font-size:13px;font-weight:600;word-break:break-all;background:#f6f6f6;padding:.3em .4em;user-select:all}
pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0}
.bad{color:#a00;font-weight:600}.ok{color:#060}.muted{color:#555;font-size:12px}
.banner{background:#a00;color:#fff;font-weight:700;font-size:15px;padding:.45em .8em;margin:0 0 .4em}
.summary{display:grid;grid-template-columns:minmax(0,1.25fr) minmax(0,1fr);gap:0 1.5em;border:2px solid #333;padding:.2em 1em .6em;margin:.6em 0 1em}
.summary h2{font-size:15px;margin:.6em 0 .3em}.summary ul,.summary ol{margin:.2em 0;padding-left:1.3em}
.summary li{margin:.1em 0}.summary table{margin:.2em 0}.summary td{padding:1px 5px;font-size:13px}
.src{color:#555;font-size:11px;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.sev-critical td:first-child,.sev-high td:first-child{color:#a00;font-weight:600}
@media (max-width:900px){.summary{grid-template-columns:minmax(0,1fr)}}
@media print{@page{size:A4;margin:12mm}body{max-width:none;margin:0;padding:0;font-size:10pt}
.summary{grid-template-columns:minmax(0,1.2fr) minmax(0,1fr);break-inside:avoid}
tr,li,pre{break-inside:avoid}h2,h3{break-after:avoid}th{background:#eee}
.banner,th,code.fp,pre{-webkit-print-color-adjust:exact;print-color-adjust:exact}}`;

function table(head: string[], rows: string[][], widths: string[] = []): string {
  const cols = widths.length
    ? `<colgroup>${widths.map((w) => `<col style="width:${w}">`).join('')}</colgroup>`
    : '';
  const th = head.map((x) => `<th>${h(x)}</th>`).join('');
  const trs = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table>${cols}<thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

const facts = (pairs: [string, string][]): string =>
  `<table><colgroup><col style="width:11em"><col></colgroup><tbody>${pairs.map(([k, v]) => `<tr><th>${h(k)}</th><td>${h(v)}</td></tr>`).join('')}</tbody></table>`;

const list = (items: string[]): string =>
  `<ul>${items.map((x) => `<li>${x}</li>`).join('\n')}</ul>`;

const cut = (s: string, n = 180): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** report.html: one self-contained page (inline CSS, no scripts, nothing loaded from anywhere). */
export function renderHtml(r: ReportInput): string {
  const { info } = r;
  const g = gaps(r);
  const views = findingViews(r);
  const { measures, state } = containment(r.records);
  const result = (x: string): string =>
    `<span class="${BAD_RESULTS.has(x) ? 'bad' : 'ok'}">${h(x)}</span>`;

  const happened = !r.findings
    ? '<p>No findings: the evidence:findings step did not run.</p>'
    : !views.length
      ? '<p class="ok">No finding: no rule matched the collected evidence.</p>'
      : `<ol>${views
          .slice(0, TOP_FINDINGS)
          .map(
            (v) =>
              `<li><b class="${['critical', 'high'].includes(v.f.severity) ? 'bad' : ''}">${h(v.f.severity)}</b> <span class="mono">${h(v.time ?? 'time unknown')}</span> ${h(v.f.title)} — ${h(cut(v.f.summary))}</li>`,
          )
          .join(
            '\n',
          )}</ol>${views.length > TOP_FINDINGS ? `<p class="muted">… ${views.length - TOP_FINDINGS} more under <a href="#findings">Findings</a></p>` : ''}`;
  const done = list([
    ...state.map(h),
    ...measures.map(
      (m) =>
        `${h(m.action)} (step ${h(m.step)}): <b class="${m.outcome === 'in force' ? 'ok' : 'bad'}">${h(m.outcome)}</b> — ${h(cut(m.message, 140))}`,
    ),
    ...(measures.length ? [] : ['no containment step ran']),
  ]);
  const missing = g.length
    ? `${list(g.slice(0, TOP_GAPS).map((x) => `<b>${h(x.what)}</b> — ${h(cut(x.why, 160))}`))}${g.length > TOP_GAPS ? `<p class="muted">… ${g.length - TOP_GAPS} more under <a href="#incomplete">Incomplete</a></p>` : ''}`
    : '<p class="ok">Nothing: every step that ran succeeded and every artifact is complete.</p>';
  const who = caseFacts(r).filter(([k]) =>
    [
      'examiner',
      'case number',
      'evidence number',
      'ticket',
      'host',
      'started',
      'finished',
      'sealed',
    ].includes(k),
  );
  const summary = `<section id="summary" class="summary" aria-label="Summary">
<div>
<h2>What happened</h2>
${happened}
<h2>What was done to the container</h2>
${done}
<h2>What is missing (${g.length})</h2>
${missing}
</div>
<div>
<h2>How to verify</h2>
<p style="margin:.2em 0">Signing key fingerprint (sha256 of the SPKI DER):</p>
<code class="fp" id="fingerprint">${h(r.key.fingerprint)}</code>
<p class="muted">${h(keyNote(r))}</p>
<pre>${verifySteps(info.id, Boolean(r.tsa)).map(h).join('\n')}</pre>
<p class="muted">${h(timeNote(r))}</p>
<h2>Who</h2>
${facts(who)}
</div>
</section>`;

  const timeline = table(
    ['time (UTC)', 'who', 'what', 'ref'],
    keyEvents(r, measures).map((e) => [
      `<span class="mono">${h(e.time)}</span>`,
      h(e.who),
      h(e.what),
      `<span class="src">${h(e.ref)}</span>`,
    ]),
    ['14em', '7em', '', '16em'],
  );
  const indicators = views.length
    ? `<h3>When and what (indicators)</h3>\n${table(
        ['finding', 'first seen (UTC)', 'indicators'],
        views.map((v) => [
          h(v.f.id),
          `<span class="mono">${h(v.time ?? 'unknown')}</span>`,
          v.indicators.map((i) => `<code>${h(i)}</code>`).join(' '),
        ]),
        ['16em', '14em', ''],
      )}`
    : '';
  const ap = approvals(r);
  const creds = r.extras?.credentials;
  const credSection = `<h2 id="credentials">Credentials the attacker could read (${creds?.list.length ?? 0})</h2>
<p>Names only, never values. Whoever controlled the container could read these, and the bundle holds them too: rotate them, and send the bundle encrypted (<code>--encrypt-to</code>).</p>
${
  creds?.list.length
    ? table(
        ['kind', 'name', 'where in the case'],
        creds.list.map((c) => [h(c.kind), `<code>${h(c.name)}</code>`, h(c.where)]),
        ['12em', '', '22em'],
      )
    : '<p>None found by name or pattern in the collected inspect and file indexes.</p>'
}${creds?.capped ? '<p class="muted">The list stops at 200 entries.</p>' : ''}`;

  const lim = limitations(r);
  const limList = lim.length
    ? `<h2>Limitations (${lim.length})</h2>\n<p>Not gaps of a step: facts about the evidence the reader must keep in mind.</p>\n${list(lim.map((x) => `<b>${h(x.what)}</b> — ${h(x.why)}`))}\n`
    : '';
  const custody = table(
    ['#', 'time (UTC)', 'actor', 'action', 'step', 'result', 'message'],
    r.records.map((c) => [
      h(c.seq),
      `<span class="mono">${h(c.time)}</span>`,
      h(c.actor),
      h(c.action),
      h(c.step ?? ''),
      result(c.result),
      h(c.message ?? ''),
    ]),
    ['3em', '13em', '12em', '11em', '7em', '6em', ''],
  );
  const total = r.artifacts.reduce((n, a) => n + a.bytes, 0);
  const inventory = table(
    ['path and source', 'size', 'sha256', 'step', 'whole'],
    [
      ...r.artifacts.map((a) => [
        `<code>${h(a.path)}</code><div class="src">${h(shortSource(a.source, info.target.id))}</div>`,
        h(humanBytes(a.bytes)),
        `<code class="hash">${h(a.sha256)}</code>`,
        h(a.step),
        a.complete ? 'yes' : '<span class="bad">NO</span>',
      ]),
      ...r.unlisted.map((u) => [
        `<code>${h(u.path)}</code><div class="src">${h(u.why)}</div>`,
        h(humanBytes(u.bytes)),
        `<code class="hash">${h(u.sha256)}</code>`,
        '',
        '<span class="bad">unknown</span>',
      ]),
    ],
    ['', '6em', '35ch', '7em', '4.5em'],
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence report: case ${h(info.id)}</title>
<style>${CSS}</style></head>
<body>
${banners(r.records)
  .map((b) => `<p class="banner" role="alert">${h(b)}</p>`)
  .join('\n')}
<h1>Evidence report: case ${h(info.id)}</h1>
${info.title ? `<p style="margin:.2em 0"><b>${h(info.title)}</b></p>` : ''}<p class="muted" style="margin:.2em 0">${h(statusLine(r))}</p>
${summary}
<h2 id="timeline">Timeline of key events</h2>
${timeline}
<h2>Case</h2>
${facts(caseFacts(r))}
<h2>Target</h2>
${facts(targetFacts(info))}
${renderFindingsHtml(r.findings)}${indicators}
<h2>Actions and approvals (${measures.length} containment, ${ap.length} decisions)</h2>
${table(
  ['#', 'time (UTC)', 'step', 'action', 'decision', 'by / why'],
  ap.map((a) => [
    h(a.seq),
    `<span class="mono">${h(a.time)}</span>`,
    h(a.step),
    h(a.action),
    result(a.result),
    h(a.message),
  ]),
  ['3em', '13em', '8em', '13em', '6em', ''],
)}
${credSection}
<h2 id="incomplete">Incomplete (${g.length})</h2>
${g.length ? list(g.map((x) => `<b>${h(x.what)}</b> — ${h(x.why)}`)) : '<p class="ok">Nothing: every step that ran succeeded and every artifact is complete.</p>'}
${limList}<h2>Custody (${r.records.length} records)</h2>
<p>The final record, written after this report, says the case is being sealed.</p>
${custody}
<h2>Evidence inventory (${r.artifacts.length} artifacts, ${h(humanBytes(total))})</h2>
<p>Sources name the container by its id <code>${h(info.target.id)}</code>, shortened below.</p>
${inventory}
<h2>Integrity</h2>
<p>SHA256SUMS lists every file of the case folder; ${h(keyNote(r))}</p>
<p>Public key fingerprint (sha256 of the SPKI DER): <code>${h(r.key.fingerprint)}</code></p>
</body></html>
`;
}
