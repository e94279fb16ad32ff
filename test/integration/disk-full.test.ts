import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { execOk } from '../fixtures/exec.js';
import { cleanupPrefix, startPlainVictim } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

// The built binary: an unhandled rejection would kill the process itself, which in-process runs cannot show.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');

function cirt(
  args: string[],
  nodeArgs: string[] = [],
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [...nodeArgs, MAIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('a full cases folder (real engine, 5 MiB tmpfs)', () => {
  let docker: Docker;
  let victim: { id: string; name: string };
  const prefix = uniquePrefix('diskfull');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-diskfull-'));
  const cases = path.join(dir, 'cases');
  let mounted = false;

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
    // 50 MB in the writable layer, ten times the cases folder; random, so the sealed bundle cannot fit either.
    await execOk(
      docker,
      victim.id,
      ['sh', '-c', 'dd if=/dev/urandom of=/tmp/big bs=1M count=50 2>/dev/null'],
      { timeoutMs: 60_000 },
    );
    fs.mkdirSync(cases);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=5m', 'tmpfs', cases]);
    mounted = true;
    fs.writeFileSync(
      path.join(dir, 'df.yaml'),
      'name: df\nsteps:\n  - id: fs-diff\n    uses: collect:fs-diff\n  - id: seal\n    uses: evidence:seal\n    always: true\n',
    );
  }, 300_000);

  afterAll(async () => {
    if (mounted) execFileSync('umount', [cases]);
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('disk full during fs-diff: exit 1, run:end failed, custody has the failed step, no crash; once space is freed `cirt seal` works and `cirt verify` passes', async () => {
    const r = await cirt([
      '--cases-dir',
      cases,
      'run',
      path.join(dir, 'df.yaml'),
      '-t',
      victim.name,
      '--case',
      'df',
      '--json',
    ]);
    expect(r.err).not.toMatch(/unhandled|Unhandled|a bug in cirt|ERR_UNHANDLED_REJECTION/);
    expect(r.code).toBe(1);
    const events = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    // Warned before collecting: 5 MiB free, a 50 MB writable layer.
    expect(String((events[0].warnings as string[] | undefined)?.[0])).toMatch(
      /^low disk space: the cases folder .* has [\d.]+ MiB free .* writable layer holds 50\.0 MiB/,
    );
    expect(events.at(-1)).toMatchObject({
      type: 'run:end',
      status: 'failed',
      exitCode: 1,
      caseId: 'df',
    });
    const ends = events.filter((e) => e.type === 'step:end');
    expect(ends.map((e) => [e.stepId, e.status])).toEqual([
      ['fs-diff', 'failed'],
      ['seal', 'failed'],
    ]);
    expect(ends[0].error).toBe(
      `the cases folder ${cases} is full (ENOSPC) while writing fs/diff.tar of case df (step fs-diff)`,
    );
    expect(ends[0].message).toContain('cirt seal --case df');
    expect(ends[1].error).toContain('is full (ENOSPC); the partial bundle was removed');

    const root = path.join(cases, 'df');
    const { records, problems } = checkChain(
      fs.readFileSync(path.join(root, 'custody.jsonl'), 'utf8'),
    );
    expect(problems).toEqual([]);
    // The run's first record holding warnings (the case's metadata record may come first).
    expect(
      records.find((r) => (r.details as { warnings?: unknown })?.warnings)?.details,
    ).toMatchObject({
      warnings: [expect.stringContaining('low disk space')],
    });
    expect(records.find((x) => x.action === 'collect:fs-diff')).toMatchObject({
      result: 'failed',
      message: expect.stringContaining('ENOSPC'),
    });
    const info = JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8')) as {
      status: string;
      incomplete?: { step: string }[];
    };
    expect(info.status).not.toBe('running');
    expect(info.incomplete?.map((i) => i.step)).toContain('fs-diff');
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8')) as {
      artifacts: { path: string; complete: boolean; bytes: number }[];
    };
    const tar = manifest.artifacts.find((a) => a.path === 'fs/diff.tar');
    expect(tar).toMatchObject({
      complete: false,
      bytes: fs.statSync(path.join(root, 'fs/diff.tar')).size,
    });
    // No half bundle posing as one, no stray temp files, no reserve left behind.
    expect(fs.readdirSync(cases).sort()).toEqual(['df']);
    expect(
      fs.readdirSync(root).filter((f) => f.includes('.tmp-') || f.startsWith('.cirt')),
    ).toEqual([]);

    execFileSync('mount', ['-o', 'remount,size=200m', cases]);
    const seal = await cirt(['--cases-dir', cases, 'seal', '--case', 'df']);
    expect(seal.err).toBe('');
    expect(seal.code).toBe(0);
    const verify = await cirt(['verify', path.join(cases, 'df.tar.gz')]);
    expect(verify.out).toContain('VALID');
    expect(verify.code).toBe(0);
  }, 240_000);

  test('the last-resort guard: a rejection nobody handles (injected) ends the binary with exit 1 and a clear message, not a bare Node trace', async () => {
    const inject = `data:text/javascript,setTimeout(()=>Promise.reject(new Error("injected")),300)`;
    const r = await cirt(['ps'], ['--import', inject]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('cirt: unhandled promise rejection (a bug in cirt): injected');
    expect(r.err).toContain('cirt seal --case');
  }, 60_000);
});
