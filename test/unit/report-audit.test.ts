import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { checkCaseMeta } from '../../src/app/case-meta.js';
import { responder } from '../../src/evidence/case-store.js';
import type { CustodyRecord } from '../../src/evidence/custody.js';
import { keyFingerprint } from '../../src/evidence/sign.js';
import { parseTrustedKeys } from '../../src/evidence/trusted-keys.js';
import { checkTimestamp } from '../../src/evidence/timestamp-check.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { findCredentials } from '../../src/report/credentials.js';
import { indicators } from '../../src/report/facts.js';
import { renderHtml } from '../../src/report/html.js';
import { gaps, renderMarkdown, type ReportInput } from '../../src/report/markdown.js';
import { containment } from '../../src/report/state.js';

const rec = (seq: number, over: Partial<CustodyRecord>): CustodyRecord => ({
  seq,
  time: `2026-01-01T00:00:0${seq}.000Z`,
  actor: 'a',
  action: 'x',
  result: 'ok',
  prevHash: '0',
  hash: String(seq),
  ...over,
});

function input(records: CustodyRecord[], over: Partial<CaseInfo> = {}): ReportInput {
  return {
    info: {
      schema: 'cirt.case/1',
      id: 'c1',
      responder: 'alice@h',
      host: 'h',
      engine: { address: 'unix:///x', local: true, version: '20.10', apiVersion: '1.41' },
      tool: { name: 'cirt', version: '0' },
      target: { id: 'f'.repeat(64), name: 'victim', image: 'img', imageId: 'sha256:1' },
      startedAt: '2026-01-01T00:00:00.000Z',
      status: 'running',
      runs: [{ playbook: 'p', file: 'p.yaml', startedAt: '2026-01-01T00:00:00.000Z' }],
      ...over,
    },
    records,
    chainProblems: [],
    artifacts: [
      {
        path: 'container/inspect.json',
        sha256: 'b'.repeat(64),
        bytes: 10,
        mediaType: 'application/json',
        action: 'collect:inspect',
        step: 'inspect',
        source: `GET /containers/${'f'.repeat(64)}/json`,
        startedAt: 't',
        finishedAt: 't',
        complete: true,
      },
    ],
    unlisted: [],
    sealedAt: '2026-01-01T00:01:00.000Z',
    key: { source: 'kept', fingerprint: 'c'.repeat(64) },
    duringRun: true,
    step: 'seal',
  };
}

const RUN = rec(1, {
  action: 'run:start',
  result: 'info',
  params: { steps: ['pause', 'isolate', 'logs', 'seal'] },
});

describe('the report for an auditor', () => {
  test('a planned step that never ran is a gap; the seal step itself is not', () => {
    const r = input([
      RUN,
      rec(2, { action: 'contain:pause', step: 'pause', message: 'paused victim' }),
    ]);
    expect(gaps(r).map((g) => g.what)).toEqual(['step isolate', 'step logs']);
  });

  test('the first screen: state at sealing, the full fingerprint, the examiner, metadata, host times', () => {
    const r = input(
      [
        RUN,
        rec(2, { action: 'contain:pause', step: 'pause', message: 'paused victim' }),
        rec(3, {
          action: 'contain:network-isolate',
          step: 'isolate',
          result: 'declined',
          message: 'skip',
        }),
      ],
      { caseNumber: 'IR-7', evidenceNumber: 'E-1', notes: 'line one\nline two' },
    );
    const md = renderMarkdown(r);
    // Markdown escapes are dropped to compare.
    const summary = md
      .slice(md.indexOf('## Summary'), md.indexOf('## Timeline'))
      .replace(/\\(.)/g, '$1');
    expect(summary).toContain('paused: its processes are frozen (custody #2)');
    expect(summary).toContain('networks: not isolated by this case');
    expect(summary).toContain('contain:network-isolate (step isolate): **declined**');
    expect(summary).toContain(`\`${'c'.repeat(64)}\``);
    expect(summary).toContain('| examiner | alice@h |');
    expect(summary).toContain('| case number | IR-7 |');
    expect(summary).toContain(
      '| finished | 2026-01-01T00:01:00.000Z (sealed by the run’s last step) |',
    );
    expect(summary).toContain('No trusted timestamp');
    // The inventory names the container once in full and shortens it in sources.
    expect(md).toContain(`GET /containers/ffffffffffff…/json`);
    const html = renderHtml(r);
    expect(html.indexOf('id="summary"')).toBeLessThan(html.indexOf('id="timeline"'));
    expect(html).toContain(`<code class="fp" id="fingerprint">${'c'.repeat(64)}</code>`);
    expect(html).toContain('@media print');
  });

  test('with a TSA the report names it and the recipe gains openssl ts -verify', () => {
    const r = { ...input([RUN]), tsa: 'http://tsa.example/' };
    expect(renderMarkdown(r)).toContain('openssl ts -verify -in SHA256SUMS.tsr -data SHA256SUMS');
    expect(renderHtml(r)).toContain('timestamped by the RFC 3161 authority http://tsa.example/');
  });

  test('indicators: paths, addresses, hashes and pids from a finding', () => {
    const f = {
      id: 'x-1',
      rule: 'x',
      title: 't',
      severity: 'high' as const,
      technique: 'T1',
      summary: `executable /tmp/.cache/kworkerd added, sha256 ${'a'.repeat(64)}; 172.17.0.3:4444 by pid 42 (nc)`,
      evidence: [],
      events: [],
    };
    expect(indicators(f)).toEqual([
      '/tmp/.cache/kworkerd',
      '172.17.0.3:4444',
      'a'.repeat(64),
      'pid 42 (nc)',
    ]);
  });

  test('credentials: names of secret env vars, secret mounts and files; never values', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-creds-'));
    fs.mkdirSync(path.join(root, 'container'));
    fs.mkdirSync(path.join(root, 'fs'));
    fs.writeFileSync(
      path.join(root, 'container', 'inspect.json'),
      JSON.stringify({
        Config: {
          Env: ['DB_PASSWORD=s3cr3t', 'PATH=/bin', 'API_TOKEN=', 'AWS_SECRET_ACCESS_KEY=x'],
        },
        Mounts: [{ Type: 'bind', Source: '/srv/app', Destination: '/run/secrets/db' }],
      }),
    );
    fs.writeFileSync(
      path.join(root, 'fs', 'diff-index.jsonl'),
      ['/root/.ssh/id_rsa', '/app/.env', '/etc/hosts', '/root/.aws/credentials']
        .map((p) => JSON.stringify({ path: p, type: 'file' }))
        .join('\n'),
    );
    const { list } = await findCredentials(root);
    expect(list.map((c) => c.name)).toEqual([
      'DB_PASSWORD',
      'AWS_SECRET_ACCESS_KEY',
      '/run/secrets/db',
      '/root/.ssh/id_rsa',
      '/app/.env',
      '/root/.aws/credentials',
    ]);
    expect(JSON.stringify(list)).not.toContain('s3cr3t');
    fs.rmSync(root, { recursive: true, force: true });
  });

  test('containment keeps the last record of each step, and names a declined one', () => {
    const { measures } = containment([
      rec(1, { action: 'contain:network-isolate', step: 'isolate', result: 'approved' }),
      rec(2, {
        action: 'contain:network-isolate',
        step: 'isolate',
        result: 'failed',
        message: 'boom',
      }),
    ]);
    expect(measures).toEqual([expect.objectContaining({ step: 'isolate', outcome: 'failed' })]);
  });
});

describe('trusted keys, timestamps, case metadata', () => {
  test('a trusted-keys file: labelled exports and bare PEMs, each with its full fingerprint', () => {
    const a = generateKeyPairSync('ed25519').publicKey;
    const b = generateKeyPairSync('ed25519').publicKey;
    const pem = (k: typeof a) => k.export({ type: 'spki', format: 'pem' }).toString();
    const keys = parseTrustedKeys(
      `# cirt key alice sha256 ${keyFingerprint(a)}\n${pem(a)}\n${pem(b)}`,
      '/x/signers.pem',
    );
    expect(keys.map((k) => [k.name, k.fingerprint])).toEqual([
      ['alice', keyFingerprint(a)],
      ['key 2 of signers.pem', keyFingerprint(b)],
    ]);
    expect(() => parseTrustedKeys('nothing here', 'f')).toThrow(/holds no PEM public key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => parseTrustedKeys(pem(rsa), 'f')).toThrow(/rsa key, not Ed25519/);
  });

  test('a damaged or foreign SHA256SUMS.tsr is a problem, never a crash', () => {
    expect(checkTimestamp(Buffer.from('not der'), Buffer.from('x')).problems[0]).toMatch(
      /is not an RFC 3161 reply/,
    );
    // A refusal: TimeStampResp { PKIStatusInfo { status 2 } }
    expect(checkTimestamp(Buffer.from('30053003020102', 'hex'), Buffer.from('x')).problems).toEqual(
      ['is a refusal (status 2), not a timestamp'],
    );
  });

  test('the examiner defaults to the user behind sudo', () => {
    const before = process.env.SUDO_USER;
    process.env.SUDO_USER = 'alice';
    try {
      expect(responder()).toBe(`alice@${os.hostname()}`);
    } finally {
      if (before === undefined) delete process.env.SUDO_USER;
      else process.env.SUDO_USER = before;
    }
  });

  test('case metadata is bounded and printable; notes may span lines', () => {
    expect(checkCaseMeta({ caseNumber: ' IR-1 ', notes: 'a\nb' })).toEqual({
      caseNumber: 'IR-1',
      notes: 'a\nb',
    });
    expect(() => checkCaseMeta({ caseNumber: 'a\u001b[31m' })).toThrow(/control characters/);
    expect(() => checkCaseMeta({ responder: '' })).toThrow(/empty/);
    expect(() => checkCaseMeta({ title: 'x'.repeat(201) })).toThrow(/longer than 200/);
  });
});

describe('seal options from the config file', () => {
  test('tsa and encryptTo in $XDG_CONFIG_HOME/cirt/config.yaml; a bad TSA URL is a usage error', async () => {
    const { planSeal } = await import('../../src/app/seal-options.js');
    const xdg = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-cfg-'));
    fs.mkdirSync(path.join(xdg, 'cirt'));
    fs.writeFileSync(path.join(xdg, 'cirt', 'config.yaml'), 'tsa: http://127.0.0.1:1/tsa\n');
    const env = { cwd: xdg, env: { XDG_CONFIG_HOME: xdg, HOME: xdg } };
    expect(planSeal({}, env)).toMatchObject({
      tsaUrl: 'http://127.0.0.1:1/tsa',
      encryptTo: [],
      signKeyKept: false,
    });
    expect(planSeal({ tsa: 'http://other/' }, env).tsaUrl).toBe('http://other/');
    expect(() => planSeal({ tsa: 'ftp://x' }, env)).toThrow(/is not an http\(s\) URL/);
    expect(() => planSeal({ encryptTo: ['/nonexistent.pem'] }, env)).toThrow(
      /is not a readable X\.509 certificate/,
    );
    fs.rmSync(xdg, { recursive: true, force: true });
  });
});
