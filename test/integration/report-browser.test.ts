import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import { chromium, type Browser } from 'playwright-core';
import { stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

jest.setTimeout(240_000);

/** Debian's chromium (scripts/setup-engine.sh installs it); playwright-core downloads no browser. */
const CHROMIUM = process.env.CIRT_CHROMIUM ?? '/usr/bin/chromium';

/**
 * report.html of a real sealed case, opened as an auditor opens it: headless Chromium, 1280 px wide.
 * Nothing may be wider than the window, and the summary with the full signing-key fingerprint must
 * be on the first screen (the first 1000 px). A screenshot stays in the test's temp folder.
 */
interface Box {
  top: number;
  bottom: number;
}
interface Measured {
  scrollWidth: number;
  wide: string[];
  summary: Box | null;
  fp: Box | null;
  fpText: string;
  summaryText: string;
  height: number;
  scripts: number;
}
const MEASURE = `(() => {
  const wide = [];
  for (const el of document.querySelectorAll('body *')) {
    const b = el.getBoundingClientRect();
    if (b.right > 1280.5 || b.width > 1280.5) wide.push(el.tagName + '.' + el.className + ' ' + Math.round(b.width) + 'px');
  }
  const box = (sel) => {
    const e = document.querySelector(sel);
    if (!e) return null;
    const b = e.getBoundingClientRect();
    return { top: b.top + window.scrollY, bottom: b.bottom + window.scrollY };
  };
  return {
    scrollWidth: document.documentElement.scrollWidth,
    wide,
    summary: box('#summary'),
    fp: box('#fingerprint'),
    fpText: document.querySelector('#fingerprint')?.textContent ?? '',
    summaryText: document.querySelector('#summary')?.innerText ?? '',
    height: document.documentElement.scrollHeight,
    scripts: document.querySelectorAll('script').length,
  };
})()`;

describe('report.html in a real browser', () => {
  let docker: Docker;
  let lab: Lab;
  let tmp: string;
  let shots: string;
  let browser: Browser | undefined;
  let caseDir: string;
  const caseId = 'browser-1';

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI)
        throw new Error(
          `${CHROMIUM} is missing: scripts/setup-engine.sh installs Debian's chromium`,
        );
      return;
    }
    docker = await requireEngine();
    lab = await stageCompromise(docker, {
      prefix: uniquePrefix('report-browser'),
      publishPort: false,
    });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-report-browser-'));
    shots = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-report-browser-shots-'));
    const env = {
      ...process.env,
      HOME: path.join(tmp, 'home'),
      XDG_CONFIG_HOME: path.join(tmp, 'xdg'),
    };
    expect((await runCli(['keys', 'init'], { cwd: tmp, env })).code).toBe(0);
    const playbook = path.join(tmp, 'ir.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: ir',
        'steps:',
        '  - { id: pause, uses: contain:pause }',
        '  - { id: net, uses: collect:network }',
        '  - { id: inspect, uses: collect:inspect }',
        '  - { id: no-restart, uses: contain:restart-policy, with: { policy: "no" } }',
        '  - { id: events, uses: collect:events }',
        '  - { id: processes, uses: collect:processes }',
        '  - { id: logs, uses: collect:logs }',
        '  - { id: fs-diff, uses: collect:fs-diff }',
        '  - { id: timeline, uses: evidence:timeline }',
        '  - { id: findings, uses: evidence:findings }',
        '  - { id: seal, uses: evidence:seal, always: true }',
        '',
      ].join('\n'),
    );
    const r = await runCli(
      [
        'run',
        playbook,
        '--target',
        lab.victim.name,
        '--case',
        caseId,
        '--cases-dir',
        path.join(tmp, 'cases'),
        '--yes',
        '--title',
        'Web server dropped a binary and called out',
        '--case-number',
        'IR-2026-113',
        '--evidence-number',
        'E-1',
        '--responder',
        'Alice Example',
      ],
      { cwd: tmp, env },
    );
    expect(r.err).toBe('');
    caseDir = path.join(tmp, 'cases', caseId);
    browser = await chromium.launch({ executablePath: CHROMIUM });
  });

  afterAll(async () => {
    await browser?.close();
    await lab?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('at 1280 px nothing overflows; the summary with the full fingerprint is in the first 1000 px', async () => {
    if (!browser) return;
    const info = JSON.parse(fs.readFileSync(path.join(caseDir, 'case.json'), 'utf8'));
    const fingerprint: string = info.seal.publicKeySha256;
    expect(fingerprint).toMatch(/^[0-9a-f]{64}$/);
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    // Self-contained: any request the page makes (it must make none) is counted and refused.
    const requests: string[] = [];
    await page.route('**/*', (route) => {
      if (!route.request().url().startsWith('file:')) requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await page.goto(`file://${path.join(caseDir, 'report.html')}`);
    // Runs in the page (a string: the tests compile without the DOM's types).
    const m = await page.evaluate<Measured>(MEASURE);
    await page.screenshot({ path: path.join(shots, 'report-first-screen.png') });
    await page.screenshot({ path: path.join(shots, 'report-full.png'), fullPage: true });
    expect(m.scrollWidth).toBeLessThanOrEqual(1280);
    expect(m.wide).toEqual([]);
    expect(m.fpText).toBe(fingerprint);
    expect(m.fp!.bottom).toBeLessThanOrEqual(1000);
    expect(m.summary!.bottom).toBeLessThanOrEqual(1000);
    expect(m.scripts).toBe(0);
    expect(requests).toEqual([]);
    // The first screen answers: what happened (with times), what was done, what is missing, who.
    expect(m.summaryText).toMatch(/What happened[\s\S]*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
    expect(m.summaryText).toContain('paused: its processes are frozen');
    expect(m.summaryText).toMatch(/What is missing \(\d+\)/);
    expect(m.summaryText).toContain('Alice Example');
    expect(m.summaryText).toContain('IR-2026-113');
    expect(m.summaryText).toContain('No trusted timestamp');
    expect(fs.statSync(path.join(shots, 'report-first-screen.png')).size).toBeGreaterThan(10_000);
    process.stdout.write(`report.html: ${m.height} px tall; screenshots in ${shots}\n`);

    // Printed (A4), the page still fits its width.
    await page.emulateMedia({ media: 'print' });
    const printWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
    expect(printWidth).toBeLessThanOrEqual(1280);
    const pdf = await page.pdf({ format: 'A4' });
    fs.writeFileSync(path.join(shots, 'report.pdf'), pdf);
    await page.close();
  });
});
