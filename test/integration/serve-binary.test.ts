import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

function newest(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
    const p = path.join(dir, e.name);
    return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }, 0);
}

function builtFresh(): boolean {
  try {
    return (
      fs.statSync(MAIN).mtimeMs >
      Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'scripts')))
    );
  } catch {
    return false;
  }
}

describe('cirt serve as a process: --alerts from stdin, SIGHUP, SIGTERM (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('serve-bin');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-serve-bin-'));
  const env = { ...process.env, CIRT_LOCK_DIR: path.join(dir, 'locks') };
  let id = '';

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    // Built unless dist/ is newer than every source file (tsc writes every output on each build).
    if (!builtFresh()) {
      const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      });
      if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    }
    const c = await docker.createContainer({
      name: `${prefix}-web`,
      Image: LAB_IMAGE,
      Cmd: ['sleep', '600'],
      Labels: { 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    id = c.id;
  }, 300_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Given Falco JSON lines on stdin, Then a run handles the alert; a bad config on SIGHUP keeps the old one; SIGTERM drains and exits 0', async () => {
    fs.mkdirSync(env.CIRT_LOCK_DIR);
    // A unix socket needs no token: its file mode (0600) is the guard.
    const cfg = `listen: unix:serve.sock\ncases_dir: cases\nrules:\n  - name: all\n    playbook: inspect.yaml\n`;
    fs.writeFileSync(path.join(dir, 'serve.yaml'), cfg);
    fs.writeFileSync(
      path.join(dir, 'inspect.yaml'),
      'name: inspect-only\nsteps:\n  - uses: collect:inspect\n',
    );
    const child: ChildProcessWithoutNullStreams = spawn(
      process.execPath,
      [MAIN, 'serve', '--config', 'serve.yaml', '--alerts', '-'],
      { cwd: dir, env },
    );
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('close', (code) => resolve(code)),
    );
    try {
      await waitFor(
        'the service to listen',
        async () => err.includes('listening on unix:'),
        30_000,
      );
      expect(fs.statSync(path.join(dir, 'serve.sock')).mode & 0o777).toBe(0o600);
      const line = JSON.stringify({
        rule: 'Terminal shell in container',
        priority: 'Critical',
        output_fields: { 'container.id': id.slice(0, 12) },
      });
      child.stdin.write(`not json\n${line}\n`);
      await waitFor('the run to end', async () => /run OK/.test(err), 30_000);
      expect(err).toMatch(/standard input line 1: not an alert, skipped/);
      const cases = fs.readdirSync(path.join(dir, 'cases')).filter((n) => !n.startsWith('.'));
      expect(cases).toHaveLength(1);
      const root = path.join(dir, 'cases', cases[0]);
      expect(fs.readFileSync(path.join(root, 'alert', 'falco.json'), 'utf8')).toBe(line);
      const { problems, records } = checkChain(
        fs.readFileSync(path.join(root, 'custody.jsonl'), 'utf8'),
      );
      expect(problems).toEqual([]);
      expect(records.map((r) => r.action)).toContain('alert:received');

      fs.writeFileSync(path.join(dir, 'serve.yaml'), `${cfg}    colour: red\n`);
      child.kill('SIGHUP');
      await waitFor(
        'the reload to be refused',
        async () => err.includes('config NOT reloaded'),
        10_000,
      );
      expect(err).toMatch(/serve\.yaml:6:5: unknown key "colour"/);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(err).toMatch(/cirt serve: stopped/);
      expect(fs.existsSync(path.join(dir, 'cases', '.serve', 'service.json'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  }, 90_000);
});
