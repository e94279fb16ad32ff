import { safeText } from '../util/sanitize.js';
import { bySeverity } from './evaluate.js';
import type { Finding, FindingsDoc } from './types.js';

/**
 * Findings for report.md / report.html. Summaries quote the container (paths, command lines), so
 * control characters become visible escapes (safeText) and markup characters are escaped.
 */

/** Escapes Markdown's inline syntax inside a table cell (and `|`), after neutralising control characters. */
export function mdText(s: string): string {
  return safeText(s).replace(/[\\`*_[\]<>|~]/g, '\\$&');
}

export function htmlText(s: string): string {
  return safeText(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function evidenceLine(f: Finding): string {
  return f.evidence
    .map(
      (e) =>
        `${e.artifact}${e.ref.line !== undefined ? `:${e.ref.line}` : e.ref.entry !== undefined ? `[${e.ref.entry}]` : ''}`,
    )
    .join(', ');
}

const NOT_RUN = 'No findings.json: the evidence:findings step did not run for this case.';

/** A `## Findings` section: one table row per finding, most severe first. */
export function renderFindingsMarkdown(doc: FindingsDoc | Finding[] | undefined): string {
  if (!doc) return `## Findings\n\n${NOT_RUN}\n`;
  const list = bySeverity(Array.isArray(doc) ? doc : doc.findings);
  const lines = ['## Findings', ''];
  if (!list.length) {
    lines.push('No finding: no rule matched the collected evidence.', '');
    return lines.join('\n');
  }
  lines.push('| severity | finding | ATT&CK | what | evidence |', '|---|---|---|---|---|');
  for (const f of list) {
    lines.push(
      `| ${f.severity} | ${mdText(f.title)} (${mdText(f.id)}) | ${mdText(f.technique)} | ${mdText(f.summary)} | ${mdText(evidenceLine(f))} |`,
    );
  }
  if (!Array.isArray(doc) && doc.rulesVersion)
    lines.push('', `Rules version ${mdText(doc.rulesVersion)}.`);
  lines.push('');
  return lines.join('\n');
}

/** The same as an HTML `<section>`. */
export function renderFindingsHtml(doc: FindingsDoc | Finding[] | undefined): string {
  if (!doc) return `<section id="findings"><h2>Findings</h2><p>${NOT_RUN}</p></section>\n`;
  const list = bySeverity(Array.isArray(doc) ? doc : doc.findings);
  if (!list.length)
    return '<section id="findings"><h2>Findings</h2><p>No finding: no rule matched the collected evidence.</p></section>\n';
  const rows = list
    .map(
      (f) =>
        `<tr class="sev-${htmlText(f.severity)}"><td>${htmlText(f.severity)}</td><td>${htmlText(f.title)}<br><small>${htmlText(f.id)}</small></td><td>${htmlText(f.technique)}</td><td>${htmlText(f.summary)}</td><td>${htmlText(evidenceLine(f))}</td></tr>`,
    )
    .join('\n');
  return `<section id="findings"><h2>Findings</h2>\n<table><thead><tr><th>severity</th><th>finding</th><th>ATT&amp;CK</th><th>what</th><th>evidence</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table></section>\n`;
}
