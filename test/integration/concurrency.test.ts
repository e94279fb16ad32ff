import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { containerLockFile } from '../../src/containment/container-lock.js';
import { ensureQuarantineNetwork } from '../../src/docker/networks.js';
import { CASE_ID } from '../../src/evidence/case-store.js';
import { checkChain, type CustodyRecord } from '../../src/evidence/custody.js';
import { execOk } from '../fixtures/exec.js';
import { cleanupPrefix, startPlainVictim, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

// Real separate processes, as a burst of alerts starts them: the built binary.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

interface Proc {
  code: number | null;
  out: string;
  err: string;
}

function cirt(args: string[], env: NodeJS.ProcessEnv): Promise<Proc> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

function custody(caseDir: string): CustodyRecord[] {
  const { records, problems } = checkChain(
    fs.readFileSync(path.join(caseDir, 'custody.jsonl'), 'utf8'),
  );
  expect(problems).toEqual([]);
  expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
  return records;
}

function caseFolders(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => CASE_ID.test(n) && fs.statSync(path.join(dir, n)).isDirectory());
}

/** A pid that has exited. */
function deadPid(): number {
  return Number(
    spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
      encoding: 'utf8',
    }).stdout,
  );
}

describe('one container, several runs (real engine, real processes)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('locks');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-locks-'));
  const lockDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-lockdir-'));
  const env = { ...process.env, CIRT_LOCK_DIR: lockDir };

  beforeAll(async () => {
    docker = await requireEngine();
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (!fs.existsSync(MAIN))
      throw new Error(`build produced no ${MAIN}: ${build.stdout}${build.stderr}`);
  }, 300_000);

  afterAll(async () => {
    if (docker) for (const p of ['a', 'b', 'c', 'd']) await cleanupPrefix(docker, `${prefix}${p}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(lockDir, { recursive: true, force: true });
  });

  test('3 parallel `cirt run --yes` on one container: exactly one proceeds, the others exit 2 naming its case; the bundle verifies; custody seq is 1..n', async () => {
    const victim = await startPlainVictim(docker, `${prefix}a`);
    const cases = path.join(dir, 'burst');
    // A lock left by a run that was SIGKILLed: stale, so the burst must take it over, and only one may win it.
    const stale = containerLockFile(env, 'unix:///var/run/docker.sock', victim.id);
    fs.writeFileSync(
      stale,
      JSON.stringify({
        pid: deadPid(),
        host: os.hostname(),
        startedAt: new Date().toISOString(),
        command: 'cirt run contain',
        token: 'dead',
        caseId: 'old',
      }),
    );

    const runs = await Promise.all(
      [1, 2, 3].map(() =>
        cirt(
          [
            '--cases-dir',
            cases,
            'run',
            'contain-and-collect',
            '-t',
            victim.name,
            '--yes',
            '--json',
          ],
          env,
        ),
      ),
    );
    const codes = runs.map((r) => r.code).sort();
    expect(codes).toEqual([0, 2, 2]);
    const winner = runs.find((r) => r.code === 0)!;
    const end = JSON.parse(winner.out.trimEnd().split('\n').at(-1)!) as {
      type: string;
      caseId: string;
      bundle: string;
    };
    expect(end).toMatchObject({ type: 'run:end' });
    for (const loser of runs.filter((r) => r.code === 2)) {
      expect(loser.out).toBe('');
      expect(loser.err).toContain(`is being handled by case ${end.caseId}`);
      expect(loser.err).toMatch(/pid \d+ on host /);
    }
    // The refused runs leave nothing behind: one case, one bundle, no lock.
    expect(caseFolders(cases)).toEqual([end.caseId]);
    const bundles = fs.readdirSync(cases).filter((n) => n.endsWith('.tar.gz'));
    expect(bundles).toEqual([`${end.caseId}.tar.gz`]);
    for (const b of bundles) {
      const v = await cirt(['verify', path.join(cases, b)], env);
      expect(v.code).toBe(0);
    }
    const records = custody(path.join(cases, end.caseId));
    // Taking over the dead run's lock is in custody (unless a loser removed it and the winner found the name free).
    const takeovers = records.filter((r) => r.action === 'lock:stale-taken-over');
    expect(takeovers.length).toBeLessThanOrEqual(1);
    for (const t of takeovers)
      expect(t).toMatchObject({
        result: 'info',
        details: { holder: { token: 'dead', caseId: 'old' } },
      });
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(path.join(cases, '.locks'))).toBe(false);
  }, 180_000);

  test('three cases on one container: release of B keeps what A and C hold ("kept by case A"); the last release restores the container', async () => {
    const victim = await startPlainVictim(docker, `${prefix}b`);
    const cli = (...args: string[]) =>
      runCli(['--cases-dir', path.join(dir, 'three'), ...args], { env });
    for (const c of ['A', 'B', 'C'])
      expect((await cli('run', 'contain', '-t', victim.name, '--case', c, '--yes')).code).toBe(0);
    const state = async () => {
      const i = await docker.getContainer(victim.id).inspect();
      return { paused: i.State.Paused, networks: Object.keys(i.NetworkSettings.Networks).sort() };
    };
    expect(await state()).toEqual({ paused: true, networks: ['cirt-quarantine'] });

    const b = await cli('release', '--yes', '--case', 'B');
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/unpause: kept by case A, case C/);
    expect(b.out).toMatch(/network-isolate: kept by case A, case C/);
    expect(await state()).toEqual({ paused: true, networks: ['cirt-quarantine'] });
    const bRecords = custody(path.join(dir, 'three', 'B'));
    expect(bRecords.find((r) => r.action === 'release:unpause')).toMatchObject({
      result: 'noop',
      details: { keptBy: ['A', 'C'] },
    });

    // A released before C: A applied the containment, C only found it in force; C's release must still undo it.
    const a = await cli('release', '--yes', '--case', 'A', '--json');
    expect(a.code).toBe(0);
    const report = JSON.parse(a.out) as {
      kept: { action: string; keptBy: string[] }[];
      outcomes: { action: string; keptBy?: string[] }[];
    };
    // The lab's victim has restart policy "no" already: every case found it so, and holds it as it is.
    expect(report.kept.map((k) => [k.action, k.keptBy])).toEqual([
      ['release:restart-policy', ['C']],
      ['release:network-isolate', ['C']],
      ['release:unpause', ['C']],
    ]);
    expect(await state()).toEqual({ paused: true, networks: ['cirt-quarantine'] });

    const c = await cli('release', '--yes', '--case', 'C');
    expect(c.code).toBe(0);
    expect(c.out).not.toContain('kept by');
    expect(await state()).toEqual({ paused: false, networks: ['bridge'] });
    for (const id of ['A', 'B', 'C']) custody(path.join(dir, 'three', id));
  }, 180_000);

  test('alerts on several containers at once: the quarantine network is created once, every run uses that one', async () => {
    const name = `${prefix}d-quarantine`;
    // CheckDuplicate is best effort: concurrent creates made two networks of one name here (dockerd 20.10).
    const got = await Promise.all(
      Array.from({ length: 8 }, () => ensureQuarantineNetwork(docker, name)),
    );
    const same = (await docker.listNetworks({ filters: { name: [name] } })).filter(
      (n) => n.Name === name,
    );
    expect(same.map((n) => n.Id)).toEqual([got[0].id]);
    expect(new Set(got.map((g) => g.id))).toEqual(new Set([got[0].id]));
    expect(got.filter((g) => g.created).length).toBeLessThanOrEqual(1);
  }, 60_000);

  test('two concurrent `cirt seal --case X`: one seals, the other exits 2 naming the holder; the bundle verifies', async () => {
    const victim = await startPlainVictim(docker, `${prefix}c`);
    // Random bytes do not compress: sealing takes long enough for the second seal to arrive while the first holds the case.
    await execOk(
      docker,
      victim.id,
      ['sh', '-c', 'dd if=/dev/urandom of=/tmp/noise bs=1M count=80 2>/dev/null'],
      { timeoutMs: 120_000 },
    );
    const cases = path.join(dir, 'seal');
    const pb = path.join(dir, 'export.yaml');
    fs.writeFileSync(pb, `name: export\nsteps:\n  - uses: collect:export\n`);
    expect(
      (
        await runCli(['--cases-dir', cases, 'run', pb, '-t', victim.name, '--case', 'X', '--yes'], {
          env,
        })
      ).code,
    ).toBe(0);
    const first = cirt(['--cases-dir', cases, 'seal', '--case', 'X'], env);
    await waitFor(
      'the first seal holds the case lock',
      async () => fs.existsSync(path.join(cases, '.locks', 'X.lock')),
      30_000,
      20,
    );
    const holder = JSON.parse(fs.readFileSync(path.join(cases, '.locks', 'X.lock'), 'utf8')) as {
      pid: number;
      command: string;
    };
    const second = await cirt(['--cases-dir', cases, 'seal', '--case', 'X'], env);
    const one = await first;
    expect(one.code).toBe(0);
    expect(one.out).toContain('sealed case X');
    expect(second.code).toBe(2);
    expect(second.err).toContain(
      `Case X is being written by another cirt: pid ${holder.pid} on host ${os.hostname()}`,
    );
    expect(second.err).toContain('cirt seal');
    expect((await cirt(['verify', path.join(cases, 'X.tar.gz')], env)).code).toBe(0);
    custody(path.join(cases, 'X'));
    expect(fs.existsSync(path.join(cases, '.locks', 'X.lock'))).toBe(false);
  }, 240_000);
});
