import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { execOk } from '../fixtures/exec.js';
import { cleanupPrefix, startPlainVictim, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

// The built binary, as a responder or a script runs it: signals, exit codes and stdout are the process's own.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface Proc {
  code: number | null;
  out: string;
  err: string;
}

/** Spawns the binary; `onLine` sees each stdout line as it arrives and gets the child to signal it. */
function cirt(
  args: string[],
  onLine?: (line: string, kill: (s: NodeJS.Signals) => void) => void,
): Promise<Proc> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let rest = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const lines = (rest + c.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine?.(l, (s) => child.kill(s));
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('the cirt binary (real engine)', () => {
  let docker: Docker;
  let victim: { id: string; name: string };
  const prefix = uniquePrefix('binary');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-binary-'));
  const quarantine = `${prefix}-q`;

  beforeAll(async () => {
    docker = await requireEngine();
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (!fs.existsSync(MAIN))
      throw new Error(`build produced no ${MAIN}: ${build.stdout}${build.stderr}`);
    victim = await startPlainVictim(docker, prefix);
    // A big file makes collect:export take seconds: a window to interrupt in.
    await execOk(
      docker,
      victim.id,
      ['sh', '-c', 'dd if=/dev/zero of=/tmp/big bs=1M count=400 2>/dev/null'],
      { timeoutMs: 60_000 },
    );
    fs.writeFileSync(
      path.join(dir, 'slow.yaml'),
      `name: slow\nsteps:\n  - uses: contain:pause\n  - uses: collect:export\n  - uses: contain:network-isolate\n    with:\n      network: ${quarantine}\n`,
    );
  }, 300_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('SIGINT mid-run: exit 130, stdout stays NDJSON ending in run:end, custody and case.json say interrupted, later steps never run', async () => {
    let sent = false;
    const r = await cirt(
      [
        '--cases-dir',
        dir,
        'run',
        path.join(dir, 'slow.yaml'),
        '-t',
        victim.name,
        '--case',
        'int',
        '--json',
      ],
      (line, kill) => {
        const e = JSON.parse(line) as { type: string; stepId?: string; bytes?: number };
        // Interrupt once the export is streaming: a real mid-step interrupt, not one between steps.
        if (!sent && e.type === 'step:progress' && e.stepId === 'export' && (e.bytes ?? 0) > 0) {
          sent = true;
          kill('SIGINT');
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    const events = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({
      type: 'run:end',
      status: 'aborted',
      exitCode: 130,
      caseId: 'int',
      caseDir: path.join(dir, 'int'),
    });
    expect(events.filter((e) => e.type === 'step:end').map((e) => [e.stepId, e.status])).toEqual([
      ['pause', 'ok'],
      ['export', 'failed'],
      ['network-isolate', 'skipped'],
    ]);
    expect(r.err).toMatch(/interrupting — finishing the custody record/);

    const { records, problems } = checkChain(
      fs.readFileSync(path.join(dir, 'int', 'custody.jsonl'), 'utf8'),
    );
    expect(problems).toEqual([]);
    expect(records.find((c) => c.action === 'collect:export')).toMatchObject({
      result: 'interrupted',
    });
    expect(records.at(-1)).toMatchObject({ action: 'run:end', result: 'interrupted' });
    expect(records.some((c) => c.action === 'contain:network-isolate')).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'int', 'case.json'), 'utf8'))).toMatchObject({
      status: 'aborted',
    });
    const info = await docker.getContainer(victim.id).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['bridge']);
    expect(info.State.Paused).toBe(true);
    await expect(docker.getNetwork(quarantine).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  }, 120_000);

  test('release --json prints exactly one JSON object and undoes the pause of the interrupted run', async () => {
    const r = await cirt(['--cases-dir', dir, 'release', '--yes', '--case', 'int', '--json']);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({
      caseId: 'int',
      status: 'ok',
      exitCode: 0,
      caseDir: path.join(dir, 'int'),
    });
    expect((await docker.getContainer(victim.id).inspect()).State.Paused).toBe(false);
  });

  test('ps --json prints one JSON array and nothing else', async () => {
    const r = await cirt(['ps', '--json']);
    expect(r.code).toBe(0);
    expect(r.out.trimEnd().split('\n')).toHaveLength(1);
    expect((JSON.parse(r.out) as { id: string }[]).some((c) => c.id === victim.id)).toBe(true);
  });

  test('an unreachable engine: one line on stderr naming the address and what to check, exit 2, nothing on stdout', async () => {
    const sock = path.join(dir, 'no-engine.sock');
    for (const args of [
      ['ps', '--json'],
      ['run', 'contain', '-t', victim.name, '--json'],
      ['release', '--yes', '--case', 'int', '--json'],
    ]) {
      const r = await cirt(['--host', `unix://${sock}`, '--cases-dir', dir, ...args]);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      const lines = r.err.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^cirt: Cannot reach the Docker engine at unix://${sock} \\(.*ENOENT.*\\): check that dockerd is running`,
        ),
      );
    }
  });

  test('Ctrl-C at an approval prompt on a terminal: exit 130 and the case says interrupted (not a silent exit 0)', async () => {
    const sock = `${prefix}-tmux`;
    const tmux = (...a: string[]) => spawnSync('tmux', ['-L', sock, ...a], { encoding: 'utf8' });
    const pb = path.join(dir, 'ask.yaml');
    fs.writeFileSync(
      pb,
      `name: ask\nsteps:\n  - uses: contain:network-isolate\n    with:\n      network: ${quarantine}\n    confirm: true\n`,
    );
    const cmd = `${process.execPath} ${MAIN} --cases-dir ${dir} run ${pb} -t ${victim.name} --case ask; echo CIRT-EXIT=$?; sleep 600`;
    try {
      expect(tmux('new-session', '-d', '-s', 'ask', '-x', '200', '-y', '40', cmd).status).toBe(0);
      const screen = () => tmux('capture-pane', '-p', '-t', 'ask').stdout;
      await waitFor('the approval prompt', async () => /\[y\/s\/A\]/.test(screen()), 20_000);
      tmux('send-keys', '-t', 'ask', 'C-c');
      await waitFor('cirt to exit', async () => /CIRT-EXIT=\d+/.test(screen()), 20_000);
      expect(screen()).toMatch(/CIRT-EXIT=130/);
    } finally {
      tmux('kill-server');
    }
    const { records } = checkChain(fs.readFileSync(path.join(dir, 'ask', 'custody.jsonl'), 'utf8'));
    expect(records.find((c) => c.action === 'contain:network-isolate')).toMatchObject({
      result: 'interrupted',
      message: 'interrupted while waiting for approval',
    });
    expect(records.at(-1)).toMatchObject({ action: 'run:end', result: 'interrupted' });
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'ask', 'case.json'), 'utf8'))).toMatchObject({
      status: 'aborted',
    });
    expect(
      Object.keys((await docker.getContainer(victim.id).inspect()).NetworkSettings.Networks),
    ).toEqual(['bridge']);
  }, 60_000);
});
