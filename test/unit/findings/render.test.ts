import { describe, expect, test } from '@jest/globals';
import { renderFindingsHtml, renderFindingsMarkdown } from '../../../src/findings/render.js';
import type { Finding } from '../../../src/findings/types.js';

const hostile: Finding = {
  id: 'executable-in-temp-1',
  rule: 'executable-in-temp',
  title: 'Executable dropped in a temporary directory',
  severity: 'high',
  technique: 'T1105',
  summary: 'executable file /tmp/a|b\n<script>alert(1)</script> \u001b]0;pwned\u0007 `x` *y* added',
  evidence: [
    { artifact: 'fs/changes.json', ref: { entry: 3 } },
    { artifact: 'fs/diff-index.jsonl', ref: { line: 7 } },
  ],
  events: ['fs:fs/diff-index.jsonl#L7/mtime'],
};
const low: Finding = {
  ...hostile,
  id: 'secret-in-environment-1',
  rule: 'secret-in-environment',
  severity: 'low',
  title: 'Secret',
  summary: 'DB_PASSWORD',
};

describe('findings in the report', () => {
  test('markdown: one table row per finding, most severe first; hostile text cannot break the table', () => {
    const md = renderFindingsMarkdown({ rulesVersion: 'v1', findings: [low, hostile] });
    const rows = md.split('\n').filter((l) => l.startsWith('| '));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/^\| high \| Executable dropped/);
    expect(rows[2]).toMatch(/^\| low \|/);
    // Every unescaped pipe is a cell border: 6 per row (7 pieces).
    expect(rows[1].replace(/\\\|/g, '').split('|')).toHaveLength(7);
    expect(md).toContain('/tmp/a\\|b\\\\n\\<script\\>');

    expect(md).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(md).toContain('fs/changes.json\\[3\\], fs/diff-index.jsonl:7');
  });

  test('html: escaped, no raw control characters, no script', () => {
    const html = renderFindingsHtml([hostile]);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;');

    expect(html.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f]/);
  });

  test('no findings, and no findings.json, say so', () => {
    expect(renderFindingsMarkdown([])).toContain('No finding: no rule matched');
    expect(renderFindingsMarkdown(undefined)).toContain('evidence:findings step did not run');
    expect(renderFindingsHtml(undefined)).toContain('evidence:findings step did not run');
  });
});
