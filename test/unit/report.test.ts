import { renderHtml } from '../../src/report/html.js';
import { gaps, renderMarkdown, type ReportInput } from '../../src/report/markdown.js';
import type { CaseInfo } from '../../src/evidence/types.js';

const HOSTILE = 'evil<script>alert(1)</script>\u001b]0;pwned\u0007\u001b[31m|`x`|\nnext';

function input(over: Partial<ReportInput> = {}): ReportInput {
  const info: CaseInfo = {
    schema: 'cirt.case/1',
    id: 'case-1',
    title: HOSTILE,
    responder: 'r@h',
    host: 'h',
    engine: {
      address: 'unix:///var/run/docker.sock',
      local: true,
      version: '20.10',
      apiVersion: '1.41',
    },
    tool: { name: 'cirt', version: '0.1.0' },
    target: { id: 'a'.repeat(64), name: HOSTILE, image: 'img', imageId: 'sha256:1' },
    startedAt: '2026-01-01T00:00:00.000Z',
    status: 'failed',
    runs: [
      { playbook: 'p', file: 'p.yaml', startedAt: '2026-01-01T00:00:00.000Z', status: 'failed' },
    ],
    incomplete: [{ step: 'logs', reason: HOSTILE }],
  };
  return {
    info,
    records: [
      {
        seq: 1,
        time: 't',
        actor: 'a',
        action: 'collect:logs',
        step: 'logs',
        result: 'failed',
        message: HOSTILE,
        prevHash: '0',
        hash: '1',
      },
    ],
    chainProblems: [],
    artifacts: [
      {
        path: 'logs/stdout.log',
        sha256: 'b'.repeat(64),
        bytes: 10,
        mediaType: 'text/plain',
        action: 'collect:logs',
        step: 'logs',
        source: HOSTILE,
        startedAt: 't',
        finishedAt: 't',
        complete: false,
      },
    ],
    unlisted: [],
    sealedAt: '2026-01-01T00:01:00.000Z',
    key: { source: 'generated', fingerprint: 'c'.repeat(64) },
    ...over,
  };
}

describe('reports', () => {
  test('report.html escapes every attacker-controlled string and loads nothing', () => {
    const html = renderHtml(input());
    expect(html).not.toContain('<script>');
    expect(html).toContain('evil&lt;script&gt;alert(1)&lt;/script&gt;');

    expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(html).toContain('\\x1b]0;pwned\\x07');
    expect(html).toContain("default-src 'none'");
    expect(html).not.toMatch(/<(script|img|link|iframe)\b/i);
  });

  test('report.md keeps hostile text on one line and inert', () => {
    const md = renderMarkdown(input());

    expect(md).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(md).not.toContain('<script>');
    // The custody row keeps its 7 columns although the message holds `|`: those are escaped.
    const row = md.split('\n').find((l) => l.startsWith('| 1 | t |'))!;
    expect(row.split(/(?<!\\)\|/)).toHaveLength(9);
    expect(md).toContain('evil\\<script\\>');
  });

  test('the gaps: failed step, failed custody record, incomplete artifact; a clean case has none', () => {
    expect(gaps(input()).map((g) => g.what)).toEqual([
      'step logs',
      'custody #1 collect:logs (step logs)',
      'logs/stdout.log',
    ]);
    const clean = input();
    clean.info = { ...clean.info, incomplete: [], status: 'complete' };
    clean.records = [{ ...clean.records[0], result: 'ok' }];
    clean.artifacts = [{ ...clean.artifacts[0], complete: true }];
    expect(gaps(clean)).toEqual([]);
    expect(renderMarkdown(clean)).toContain('Nothing: every step that ran succeeded');
  });
});
