import { humanBytes } from '../util/format.js';
import { renderFindingsHtml } from '../findings/render.js';
import { safeText } from '../util/sanitize.js';
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

/** HTML-escapes text after making control characters visible (a report may be `cat` on a terminal too). */
export function h(s: unknown): string {
  return safeText(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#111}
table{border-collapse:collapse;width:100%;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.mono,code,pre{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
.bad{color:#a00;font-weight:600}.banner{background:#a00;color:#fff;font-weight:700;font-size:16px;padding:.5em .8em;margin:0 0 .5em}.ok{color:#060}pre{background:#f6f6f6;padding:.6em;overflow:auto}`;

function table(head: string[], rows: string[][], mono: number[] = []): string {
  const th = head.map((x) => `<th>${h(x)}</th>`).join('');
  const trs = rows
    .map(
      (r) =>
        `<tr>${r.map((c, i) => `<td${mono.includes(i) ? ' class="mono"' : ''}>${c}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

const facts = (pairs: [string, string][]): string =>
  table(
    ['', ''],
    pairs.map(([k, v]) => [h(k), h(v)]),
  );

/** report.html: one self-contained page (inline CSS, no scripts, nothing loaded from anywhere). */
export function renderHtml(r: ReportInput): string {
  const { info } = r;
  const g = gaps(r);
  const result = (x: string): string =>
    `<span class="${BAD_RESULTS.has(x) ? 'bad' : 'ok'}">${h(x)}</span>`;
  const custody = table(
    ['#', 'time (UTC)', 'actor', 'action', 'step', 'result', 'message'],
    r.records.map((c) => [
      h(c.seq),
      h(c.time),
      h(c.actor),
      h(c.action),
      h(c.step ?? ''),
      result(c.result),
      h(c.message ?? ''),
    ]),
  );
  const total = r.artifacts.reduce((n, a) => n + a.bytes, 0);
  const artifacts = table(
    ['path', 'bytes', 'sha256', 'step', 'source', 'complete'],
    [
      ...r.artifacts.map((a) => [
        h(a.path),
        h(a.bytes),
        h(a.sha256),
        h(a.step),
        h(a.source),
        a.complete ? 'yes' : '<span class="bad">NO</span>',
      ]),
      ...r.unlisted.map((u) => [
        h(u.path),
        h(u.bytes),
        h(u.sha256),
        '',
        h(u.why),
        '<span class="bad">unknown</span>',
      ]),
    ],
    [0, 2],
  );
  const gapList = g.length
    ? `<ul>${g.map((x) => `<li><b>${h(x.what)}</b> — ${h(x.why)}</li>`).join('\n')}</ul>`
    : '<p class="ok">Nothing: every step that ran succeeded and every artifact is complete.</p>';
  const lim = limitations(r);
  const limList = lim.length
    ? `<h2>Limitations (${lim.length})</h2>\n<p>Not gaps of a step: facts about the evidence the reader must keep in mind.</p>\n<ul>${lim.map((x) => `<li><b>${h(x.what)}</b> — ${h(x.why)}</li>`).join('\n')}</ul>\n`
    : '';
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
${info.title ? `<p><b>${h(info.title)}</b></p>` : ''}
${facts(caseFacts(r))}
<h2>Target</h2>
${facts(targetFacts(info))}
${renderFindingsHtml(r.findings)}<h2>Incomplete (${g.length})</h2>
${gapList}
${limList}<h2>Custody (${r.records.length} records)</h2>
<p>The final record, written after this report, says the case is being sealed.</p>
${custody}
<h2>Artifacts (${r.artifacts.length}, ${h(humanBytes(total))})</h2>
${artifacts}
<h2>Integrity</h2>
<p>SHA256SUMS lists every file of the case folder; ${h(keyNote(r))}</p>
<p>Public key fingerprint (sha256 of the SPKI DER): <code>${h(r.key.fingerprint)}</code></p>
<p>Check with stock tools:</p>
<pre>${verifySteps(info.id).map(h).join('\n')}</pre>
</body></html>
`;
}
