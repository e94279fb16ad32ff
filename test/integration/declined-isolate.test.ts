import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { cleanupPrefix, stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Single-quotes a word for `sh -c`. */
const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the built binary on a pseudo-terminal (util-linux `script`), as a responder at a shell does:
 * stdin and stderr are a TTY, so cirt asks. `answer` sees the output so far and returns what to type.
 */
function onTerminal(
  args: string[],
  cwd: string,
  answer: (out: string) => string | undefined,
  timeoutMs: number,
): Promise<{ code: number | null; out: string }> {
  const cmd = [process.execPath, MAIN, ...args].map(sh).join(' ');
  // -e: script exits with the command's code; -f: output flushed as it comes; the pty is 200 columns wide.
  const child = spawn('script', ['-qefc', `stty cols 200 rows 50; exec ${cmd}`, '/dev/null'], {
    cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  const typed = new Set<string>();
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const keys = answer(out);
    if (keys !== undefined && !typed.has(keys)) {
      typed.add(keys);
      child.stdin.write(keys);
    }
  });
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    }),
  );
}

describe('a declined isolate on a real terminal (real engine, the built binary)', () => {
  const prefix = uniquePrefix('declined');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-declined-'));
  let docker: Docker;
  let lab: Lab;

  beforeAll(async () => {
    docker = await requireEngine();
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (!fs.existsSync(MAIN))
      throw new Error(`build produced no ${MAIN}: ${build.stdout}${build.stderr}`);
    lab = await stageCompromise(docker, { prefix });
  }, 300_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 120_000);

  test('Given contain-and-collect at the isolate prompt, When the responder answers s, Then exit 1, run:end not-contained, still on its network, report says NOT CONTAINED', async () => {
    const caseId = `${prefix}-case`;
    const r = await onTerminal(
      [
        '--cases-dir',
        path.join(cwd, 'cases'),
        'run',
        'contain-and-collect',
        '-t',
        lab.victim.name,
        '--case',
        caseId,
        '--json',
      ],
      cwd,
      (out) => (out.includes('[y/s/A]') ? 's\r' : undefined),
      240_000,
    );
    // The prompt offered the three answers and said what skipping a containment step means.
    expect(r.out).toMatch(/Approve step "isolate" \(contain:network-isolate\) on \S+victim: /);
    expect(r.out).toContain(`s skip it and go on (${lab.victim.name} stays NOT CONTAINED)`);
    expect(r.out).toContain('a stop the run, seal what was collected (default) [y/s/A]');
    expect(r.code).toBe(1);

    const events = r.out
      .split(/\r?\n/)
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            type: string;
            stepId?: string;
            status?: string;
            exitCode?: number;
            message?: string;
            bundle?: string;
          },
      );
    expect(events.find((e) => e.type === 'step:end' && e.stepId === 'isolate')).toMatchObject({
      status: 'declined',
    });
    // skip goes on: the rest of the playbook ran, the seal too.
    expect(events.find((e) => e.type === 'step:end' && e.stepId === 'fs-diff')?.status).toMatch(
      /^(ok|noop)$/,
    );
    expect(events.find((e) => e.type === 'step:end' && e.stepId === 'seal')).toMatchObject({
      status: 'ok',
    });
    const end = events.at(-1)!;
    expect(end).toMatchObject({ type: 'run:end', status: 'not-contained', exitCode: 1 });
    expect(end.message).toMatch(
      /^the responder declined step "isolate" \(contain:network-isolate\): containment not applied/,
    );

    // The container was not isolated: still on its production network, never on the quarantine one.
    const info = await docker.getContainer(lab.victim.id).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([lab.network.name]);

    // The sealed case: custody holds the decline, case.json the declined step, the report leads with it.
    const dir = path.join(cwd, 'cases', caseId);
    const custody = checkChain(fs.readFileSync(path.join(dir, 'custody.jsonl'), 'utf8'));
    expect(custody.problems).toEqual([]);
    expect(custody.records.find((c) => c.step === 'isolate')).toMatchObject({
      action: 'contain:network-isolate',
      result: 'declined',
      details: { answer: 'skip', containment: true },
    });
    expect(custody.records.some((c) => c.step === 'isolate' && c.result === 'approved')).toBe(
      false,
    );
    const info2 = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
    expect(info2.runs[0].declined).toEqual([
      expect.objectContaining({
        step: 'isolate',
        uses: 'contain:network-isolate',
        answer: 'skip',
        containment: true,
      }),
    ]);
    const md = fs
      .readFileSync(path.join(dir, 'report.md'), 'utf8')
      .replace(/\\(.)/g, '$1')
      .split('\n');
    expect(md[0]).toMatch(
      /^> \*\*NOT CONTAINED: the responder declined step "isolate" \(contain:network-isolate\) \(custody #\d+\): its containment was not applied\*\*$/,
    );
    expect(md.indexOf(`# Evidence report: case ${caseId}`)).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toMatch(
      /<body>\n<p class="banner" role="alert">NOT CONTAINED: /,
    );
    expect(fs.existsSync(end.bundle!)).toBe(true);
  }, 300_000);

  test('Enter (the default) at the isolate prompt stops the run: later steps not run, the seal runs, exit 1, not-contained', async () => {
    const caseId = `${prefix}-enter`;
    const r = await onTerminal(
      [
        '--cases-dir',
        path.join(cwd, 'cases'),
        'run',
        'contain-and-collect',
        '-t',
        lab.victim.name,
        '--case',
        caseId,
        '--json',
      ],
      cwd,
      (out) => (out.includes('[y/s/A]') ? '\r' : undefined),
      240_000,
    );
    expect(r.code).toBe(1);
    const events = r.out
      .split(/\r?\n/)
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as { type: string; stepId?: string; status?: string; message?: string },
      );
    const status = (id: string) =>
      events.find((e) => e.type === 'step:end' && e.stepId === id)?.status;
    expect(status('isolate')).toBe('declined');
    expect(status('no-restart')).toBe('skipped');
    expect(status('fs-diff')).toBe('skipped');
    expect(status('seal')).toBe('ok');
    expect(events.at(-1)).toMatchObject({ type: 'run:end', status: 'not-contained', exitCode: 1 });
    expect(events.at(-1)?.message).toContain('the responder stopped the run at step "isolate"');
    const info = await docker.getContainer(lab.victim.id).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([lab.network.name]);
  }, 300_000);

  test('Ctrl-C at the isolate prompt is still an interrupt: exit 130, run:end aborted', async () => {
    const caseId = `${prefix}-intr`;
    const r = await onTerminal(
      [
        '--cases-dir',
        path.join(cwd, 'cases'),
        'run',
        'contain-and-collect',
        '-t',
        lab.victim.name,
        '--case',
        caseId,
        '--json',
      ],
      cwd,
      (out) => (out.includes('[y/s/A]') ? '\x03' : undefined),
      240_000,
    );
    expect(r.code).toBe(130);
    const end = r.out
      .split(/\r?\n/)
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .at(-1);
    expect(end).toMatchObject({ type: 'run:end', status: 'aborted', exitCode: 130 });
  }, 300_000);
});
