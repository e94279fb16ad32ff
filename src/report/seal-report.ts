import type { ReportHook } from '../evidence/seal.js';
import { readFindingsForReport } from './findings-doc.js';
import { gatherExtras } from './gather.js';
import { renderHtml } from './html.js';
import { gaps, renderMarkdown, type ReportInput } from './markdown.js';

/** The seal's report: report.md and report.html from the case's facts, its findings and their times. */
export const sealReport: ReportHook = async ({ root, ...facts }) => {
  const findings = readFindingsForReport(root);
  const input: ReportInput = { ...facts, findings, extras: await gatherExtras(root, findings) };
  return {
    files: [
      { rel: 'report.md', text: renderMarkdown(input), mediaType: 'text/markdown' },
      { rel: 'report.html', text: renderHtml(input), mediaType: 'text/html' },
    ],
    gaps: gaps(input).length,
  };
};
