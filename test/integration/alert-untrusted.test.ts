import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

/** Alerts are untrusted input: a run on one must touch nothing unless the alert names one container, exactly. */
describe('alerts are untrusted input (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('alert-untrusted');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-alert-untrusted-'));
  const cases = path.join(dir, 'cases');
  const pause = path.join(dir, 'pause.yaml');
  const a = { id: '', name: `${prefix}-a` };
  const b = { id: '', name: `${prefix}-b` };

  const paused = async (id: string): Promise<boolean> =>
    (await docker.getContainer(id).inspect()).State.Paused;
  const alertFile = (name: string, fields: Record<string, unknown>): string => {
    const f = path.join(dir, `${name}.json`);
    fs.writeFileSync(
      f,
      JSON.stringify({
        rule: 'Terminal shell in container',
        priority: 'Notice',
        output_fields: fields,
      }),
    );
    return f;
  };
  /** Nothing touched: neither container paused, no case folder. */
  const expectUntouched = async (): Promise<void> => {
    expect(await paused(a.id)).toBe(false);
    expect(await paused(b.id)).toBe(false);
    expect(fs.existsSync(cases) ? fs.readdirSync(cases) : []).toEqual([]);
  };

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    for (const c of [a, b]) {
      const made = await docker.createContainer({
        name: c.name,
        Image: LAB_IMAGE,
        Cmd: ['sleep', '600'],
        Labels: { 'cirt.lab.prefix': prefix },
      });
      await made.start();
      c.id = made.id;
    }
    fs.writeFileSync(pause, 'name: pause-only\nsteps:\n  - uses: contain:pause\n');
  });

  afterAll(async () => {
    if (docker) {
      for (const c of [a, b])
        await docker
          .getContainer(c.id)
          .unpause()
          .catch(() => undefined);
      await cleanupPrefix(docker, prefix);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // A short id was once resolved as a prefix: "a" paused whichever container's id started with "a".
  // The victim's own short prefixes are the sharpest case: they would have matched it alone.
  test.each([
    ['"a"', () => 'a'],
    ['"abc"', () => 'abc'],
    ['the first character of the container id', () => a.id.slice(0, 1)],
    ['the first 3 characters of the container id', () => a.id.slice(0, 3)],
    ['11 characters of the container id', () => a.id.slice(0, 11)],
  ])(
    'Given an alert whose container.id is %s, an unattended --yes run is exit 2 and touches nothing',
    async (_name, id) => {
      const f = alertFile('short', { 'container.id': id(), 'container.name': a.name });
      const r = await runCli(['--cases-dir', cases, 'run', pause, '--alert', f, '--yes', '--json']);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(r.err).toContain(
        `container.id "${id()}", which is not a container id (12 or 64 lowercase hex characters); nothing was touched`,
      );
      await expectUntouched();
    },
  );

  test('Given an alert whose container.id is "host", it is refused as a host event', async () => {
    const r = await runCli([
      '--cases-dir',
      cases,
      'run',
      pause,
      '--alert',
      alertFile('host', { 'container.id': 'host', 'container.name': 'host' }),
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/about the host, not a container/);
    await expectUntouched();
  });

  test("Given an alert whose id is container A's and whose name is container B's, exit 2 naming both, nothing touched", async () => {
    const f = alertFile('mismatch', {
      'container.id': a.id.slice(0, 12),
      'container.name': b.name,
    });
    const r = await runCli(['--cases-dir', cases, 'run', pause, '--alert', f, '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `container.id ${a.id.slice(0, 12)} is container ${a.name} (${a.id.slice(0, 12)}), but container.name is "${b.name}", which is container ${b.name} (${b.id.slice(0, 12)})`,
    );
    await expectUntouched();
  });

  test('Given an alert whose name is no container (a prefix of one), exit 2: names match exactly', async () => {
    const f = alertFile('name-prefix', {
      'container.id': a.id.slice(0, 12),
      'container.name': a.name.slice(0, -1),
    });
    const r = await runCli(['--cases-dir', cases, 'run', pause, '--alert', f, '--yes']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `but container.name is "${a.name.slice(0, -1)}", and no container has that name`,
    );
    const byName = await runCli([
      '--cases-dir',
      cases,
      'run',
      pause,
      '--alert',
      alertFile('name-only', { 'container.name': a.name.slice(0, -1) }),
      '--yes',
    ]);
    expect(byName.code).toBe(2);
    expect(byName.err).toContain(`No container is named "${a.name.slice(0, -1)}"`);
    await expectUntouched();
  });

  test('Given an alert about container A and --target B, exit 2 naming both, nothing touched', async () => {
    const f = alertFile('about-a', { 'container.id': a.id.slice(0, 12), 'container.name': a.name });
    const r = await runCli([
      '--cases-dir',
      cases,
      'run',
      pause,
      '--alert',
      f,
      '--target',
      b.name,
      '--yes',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(
      `--target ${b.name} is container ${b.name} (${b.id.slice(0, 12)}), but the alert in ${f} is about container ${a.name} (${a.id.slice(0, 12)}); nothing was touched`,
    );
    await expectUntouched();
    // The same container named both ways is fine (a dry run: nothing to undo).
    const same = await runCli([
      '--cases-dir',
      cases,
      'run',
      pause,
      '--alert',
      f,
      '--target',
      a.id,
      '--dry-run',
    ]);
    expect(same.code).toBe(0);
    // A full 64-hex id in the alert is taken as exactly that container.
    const full = await runCli([
      '--cases-dir',
      cases,
      'run',
      pause,
      '--alert',
      alertFile('full-id', { 'container.id': a.id }),
      '--dry-run',
    ]);
    expect(full.code).toBe(0);
    expect(full.out).toContain(a.name);
    await expectUntouched();
  });

  test('Given a live alert stream on stdin (the binary, stdin kept open), the run acts on the first alert and ends without stdin closing', async () => {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    const child = spawn(
      process.execPath,
      [
        MAIN,
        '--cases-dir',
        cases,
        'run',
        pause,
        '--alert',
        '-',
        '--yes',
        '--json',
        '--case',
        'live',
      ],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const alert = (rule: string): string =>
      `${JSON.stringify({ rule, output_fields: { 'container.id': a.id.slice(0, 12), 'container.name': a.name } })}\n`;
    // Two alerts in one write, as a busy Falco would send them; then the pipe just stays open.
    child.stdin.write(alert('first') + alert('second'));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no exit within 60 s with stdin open; stderr: ${err}`)),
        60_000,
      );
      child.on('close', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(child.stdin.writableEnded).toBe(false);
    expect(code).toBe(0);
    expect(JSON.parse(out.trim().split('\n').pop()!)).toMatchObject({
      type: 'run:end',
      status: 'ok',
      caseId: 'live',
    });
    expect(err).toContain('more input follows the first alert; one run takes one alert');
    expect(await paused(a.id)).toBe(true);
    const kept = fs.readFileSync(path.join(cases, 'live', 'alert', 'falco.json'), 'utf8');
    expect(JSON.parse(kept).rule).toBe('first');
    child.stdin.destroy();
    await docker.getContainer(a.id).unpause();
    fs.rmSync(cases, { recursive: true, force: true });
  }, 300_000);
});
