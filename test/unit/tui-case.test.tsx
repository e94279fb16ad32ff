import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { bySeverity } from '../../src/findings/evaluate.js';
import { readCase } from '../../src/tui/data/case-reader.js';
import type { CaseData } from '../../src/tui/types.js';
import { FakeServices, renderApp, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const HASH = 'ab'.repeat(32);
const data: CaseData = {
  id: 'case-1',
  dir: '/cases/case-1',
  status: 'sealed',
  target: 'victim (0123456789ab)',
  artifacts: [
    {
      path: 'container/inspect.json',
      bytes: 12_345,
      sha256: 'c0ffee'.padEnd(64, '0'),
      complete: true,
    },
    {
      path: 'fs/export.tar',
      bytes: 5 * 1024 * 1024,
      sha256: 'deadbeef'.padEnd(64, '1'),
      complete: false,
    },
  ],
  findings: bySeverity([
    {
      id: 'f2',
      rule: 'r2',
      title: 'Crontab persistence',
      severity: 'medium',
      technique: 'T1053.003',
      events: ['e2'],
    },
    {
      id: 'f1',
      rule: 'r1',
      title: 'Dropper in /tmp/.cache/kworkerd',
      severity: 'high',
      technique: 'T1105',
      events: ['e1'],
    },
  ]),
  bundle: { path: '/cases/case-1.tar.gz', sha256: HASH },
  notes: [],
};

describe('Case screen', () => {
  test('Given a sealed case, Then the signing key is shown with its full fingerprint', async () => {
    const svc = new FakeServices();
    const fp = '053d'.padEnd(64, '7');
    svc.cases.set(data.dir, { ...data, key: { fingerprint: fp, source: 'kept' } });
    const { lastFrame } = renderApp(svc, { startWith: [{ type: 'case:request', dir: data.dir }] });
    const f = await until(lastFrame, (x) => x.includes('Case case-1'));
    // At 80 columns the note after it may be cut; the fingerprint never is.
    expect(f).toContain(`key ${fp} (your kept`);
  });

  test('Given a sealed case, Then artifacts (size, hash), findings by severity and the bundle with its hash are shown', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, data);
    const { lastFrame } = renderApp(svc, { startWith: [{ type: 'case:request', dir: data.dir }] });
    const f = await until(lastFrame, (x) => x.includes('Case case-1'));
    expect(f).toContain('Bundle /cases/case-1.tar.gz');
    expect(f).toContain(`sha256 ${HASH}`);
    expect(f).toMatch(/Findings \(2\) high 1\s+medium 1/);
    // Most severe first.
    expect(f.indexOf('Dropper in /tmp/.cache/kworkerd')).toBeLessThan(
      f.indexOf('Crontab persistence'),
    );
    expect(f).toMatch(/container\/inspect\.json\s+12\.1 KiB c0ffee000000…/);
    expect(f).toMatch(/fs\/export\.tar\s+5\.0 MiB deadbeef1111… INCOMPLETE/);
  });

  test('Given a bundle path longer than 80 columns, Then its file name (the case id) stays on screen', async () => {
    const svc = new FakeServices();
    const dir = `/srv/incident-response/${'deep/'.repeat(8)}cases/20240501T120000Z-cirt-lab-victim`;
    svc.cases.set(dir, { ...data, dir, bundle: { path: `${dir}.tar.gz`, sha256: HASH } });
    const { lastFrame } = renderApp(svc, { startWith: [{ type: 'case:request', dir }] });
    const f = await until(lastFrame, (x) => x.includes('Case case-1'));
    expect(f).toMatch(/^Bundle \/srv\/incident-response\/\S*…\S*-cirt-lab-victim\.tar\.gz$/m);
    expect(Math.max(...f.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  test('When v is pressed, Then the bundle is verified with one key and the outcome shown', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, data);
    const { lastFrame, stdin } = renderApp(svc, {
      startWith: [{ type: 'case:request', dir: data.dir }],
    });
    await until(lastFrame, (x) => x.includes('Case case-1'));
    stdin.write('v');
    const f = await until(lastFrame, (x) => x.includes('bundle verified'));
    expect(f).toContain('SHA256SUMS: all files OK');
    expect(svc.verified).toEqual(['/cases/case-1.tar.gz']);
    svc.verifyOutcome = { ok: false, lines: ['SHA256SUMS.sig does not match pub.pem'] };
    stdin.write('v');
    const g = await until(lastFrame, (x) => x.includes('did NOT verify'));
    expect(g).toContain('SHA256SUMS.sig does not match pub.pem');
  });

  test('A case without a bundle says so, and v explains there is nothing to verify', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, { ...data, bundle: undefined });
    const { lastFrame, stdin } = renderApp(svc, {
      startWith: [{ type: 'case:request', dir: data.dir }],
    });
    await until(lastFrame, (x) => x.includes('Not sealed yet'));
    stdin.write('v');
    await until(lastFrame, (x) => x.includes('nothing to verify'));
    expect(svc.verified).toEqual([]);
  });

  test('j moves through the artifacts; ? shows the keys; q returns to the containers', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, data);
    const { lastFrame, stdin } = renderApp(svc, {
      startWith: [{ type: 'case:request', dir: data.dir }],
    });
    await until(lastFrame, (x) => /›container\/inspect/.test(x));
    stdin.write('j');
    await until(lastFrame, (x) => /›fs\/export\.tar/.test(x));
    stdin.write('?');
    await until(lastFrame, (x) => x.includes('verify the sealed bundle'));
    stdin.write('q');
    await until(lastFrame, (x) => x.includes('Case case-1'));
    stdin.write('q');
    await until(lastFrame, (x) => x.includes('Connecting'));
  });
});

describe('readCase reads the case folder and the bundle beside it', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-read-'));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test('manifest, findings and the .sha256 file', async () => {
    const dir = path.join(root, 'c1');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'case.json'),
      JSON.stringify({
        id: 'c1',
        status: 'sealed',
        target: { id: 'f'.repeat(64), name: 'victim' },
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({ artifacts: [{ path: 'a.json', bytes: 3, sha256: HASH, complete: true }] }),
    );
    fs.writeFileSync(
      path.join(dir, 'findings.json'),
      JSON.stringify({
        findings: [
          { id: 'x', rule: 'r', title: 't', severity: 'low', events: ['e'] },
          { id: 'y', rule: 'r', title: 'u', severity: 'critical' },
        ],
      }),
    );
    fs.writeFileSync(`${dir}.tar.gz`, 'x');
    fs.writeFileSync(`${dir}.tar.gz.sha256`, `${HASH.toUpperCase()}  c1.tar.gz\n`);
    const c = await readCase(dir);
    expect(c.artifacts).toEqual([{ path: 'a.json', bytes: 3, sha256: HASH, complete: true }]);
    expect(c.findings.map((f) => f.severity)).toEqual(['critical', 'low']);
    expect(c.bundle).toEqual({ path: `${dir}.tar.gz`, sha256: HASH });
    expect(c.target).toBe('victim (ffffffffffff)');
  });

  test('a folder without case.json is refused; missing findings are a note, not an error', async () => {
    await expect(readCase(path.join(root, 'nope'))).rejects.toThrow(/not a cirt case folder/);
    const dir = path.join(root, 'c2');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, 'case.json'),
      JSON.stringify({ id: 'c2', status: 'open', target: { id: 'a', name: 'v' } }),
    );
    const c = await readCase(dir);
    expect(c.findings).toEqual([]);
    expect(c.bundle).toBeUndefined();
    expect(c.notes.join()).toMatch(/no findings\.json/);
  });
});
