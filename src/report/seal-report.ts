import type { ReportHook } from '../evidence/seal.js';
import { readFindingsForReport } from './findings-doc.js';
import { renderHtml } from './html.js';
import { gaps, renderMarkdown, type ReportInput } from './markdown.js';

/** The seal's report: report.md and report.html from the case's facts and its newest findings. */
export const sealReport: ReportHook = ({ root, ...facts }) => {
  const input: ReportInput = { ...facts, findings: readFindingsForReport(root) };
  return {
    files: [
      { rel: 'report.md', text: renderMarkdown(input), mediaType: 'text/markdown' },
      { rel: 'report.html', text: renderHtml(input), mediaType: 'text/html' },
    ],
    gaps: gaps(input).length,
  };
};
