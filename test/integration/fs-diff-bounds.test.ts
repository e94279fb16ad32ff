import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import type { IndexLine, RequestRecord } from '../../src/evidence/diff-writer.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(300_000);

const MANY = 3000;
const CLIP = 100 * 1024;

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

const jsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A running container that ran `script` to completion (it touches /ready last). */
async function prepared(docker: Docker, name: string, script: string): Promise<Docker.Container> {
  await ensureImage(docker);
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['sh', '-c', `${script} && touch /ready && exec sleep 2147483647`],
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  const deadline = Date.now() + 120_000;
  const ready = (): boolean => {
    try {
      execFileSync('docker', ['exec', c.id, 'test', '-f', '/ready'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${name} did not finish its setup`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return c;
}

async function run(
  playbook: string,
  target: string,
  casesDir: string,
  caseId: string,
): Promise<{ exitCode: number; out: string; ms: number }> {
  const out = sink();
  const t0 = Date.now();
  const r = await runCommand(
    { playbook, target, caseId, casesDir, yes: true },
    { out: out.stream, err: out.stream, interactive: false, env: process.env, cwd: casesDir },
  );
  return { exitCode: r.exitCode, out: out.text(), ms: Date.now() - t0 };
}

describe('collect:fs-diff: many files, budgets', () => {
  let docker: Docker;
  let tmp: string;
  let caseDir: string;
  let name: string;
  let result: { exitCode: number; out: string; ms: number };
  let bigHash: string;
  let files: Map<string, string>;

  beforeAll(async () => {
    docker = await requireEngine();
    name = uniquePrefix('fsdiff-many');
    // 3,000 files added to /etc (it exists in the image, with unchanged files: context), a file over
    // the per-file budget at the end of /etc, and in /tmp a 1 TiB sparse file and another big one.
    const c = await prepared(
      docker,
      name,
      `for i in $(seq 1 ${MANY}); do echo "content $i" > /etc/f$i; done && head -c 300000 /dev/urandom > /etc/zz-big.bin && truncate -s 1099511627776 /tmp/sparse && head -c 300000 /dev/urandom > /tmp/big.bin`,
    );
    const exec = async (cmd: string): Promise<string> =>
      execFileSync('docker', ['exec', c.id, 'sh', '-c', cmd]).toString();
    bigHash = (await exec(`head -c ${CLIP} /tmp/big.bin | sha256sum`)).split(' ')[0];
    files = new Map();
    for (let i = 1; i <= MANY; i++) files.set(`/etc/f${i}`, sha(Buffer.from(`content ${i}\n`)));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-fsdiff-'));
    const playbook = path.join(tmp, 'p.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: fs-diff-bounds',
        'steps:',
        '  - id: fs-diff',
        '    uses: collect:fs-diff',
        '    with:',
        `      maxFileBytes: 100KiB`,
        '',
      ].join('\n'),
    );
    result = await run(playbook, name, tmp, 'many');
    caseDir = path.join(tmp, 'many');
  });

  afterAll(async () => {
    await docker
      ?.getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the run completes within seconds, though a 1 TiB sparse file is in the diff; clipped files are gaps: partial, exit 1', () => {
    expect(result.exitCode).toBe(1);
    expect(result.out).toMatch(
      /^ {2}◐ fs-diff \(collect:fs-diff\) partial: .*PARTIAL: \d+ gap\(s\)/m,
    );
    expect(result.out).toMatch(/^INCOMPLETE: 1 step\(s\) partial/m);
    expect(result.ms).toBeLessThan(60_000);
  });

  test('requests grow with directories, not files: /etc is fetched once', () => {
    const reqs = readJson<RequestRecord[]>(path.join(caseDir, 'fs/diff-requests.json'));
    expect(reqs.length).toBeLessThanOrEqual(8);
    expect(reqs.find((r) => r.path === '/etc')).toMatchObject({
      kind: 'directory',
      evidence: expect.any(Number),
      context: expect.any(Number),
    });
  });

  test('every added file is in the index as evidence with its sha256; unchanged members are context', () => {
    const index = jsonl<IndexLine>(path.join(caseDir, 'fs/diff-index.jsonl'));
    const byPath = new Map(index.map((e) => [e.path, e]));
    for (const [p, h] of files)
      expect({
        p,
        sha256: byPath.get(p)?.sha256,
        role: byPath.get(p)?.role,
        change: byPath.get(p)?.change,
      }).toEqual({ p, sha256: h, role: 'evidence', change: 'A' });
    expect(byPath.get('/etc/passwd')).toMatchObject({ role: 'context' });
    expect(byPath.get('/etc/group')).toMatchObject({ role: 'context' });
    expect(byPath.get('/etc')).toMatchObject({ role: 'evidence', change: 'C' });
  });

  test('files over maxFileBytes and the sparse 1 TiB file: real size, a hashed prefix, listed as gaps', () => {
    const index = jsonl<IndexLine>(path.join(caseDir, 'fs/diff-index.jsonl'));
    const sparse = index.find((e) => e.path === '/tmp/sparse')!;
    expect(sparse).toMatchObject({
      size: 2 ** 40,
      sha256: null,
      offset: null,
      clipped: { reason: 'file-budget', bytes: CLIP, sha256: sha(Buffer.alloc(CLIP)) },
    });
    const big = index.find((e) => e.path === '/tmp/big.bin')!;
    expect(big).toMatchObject({
      size: 300000,
      sha256: null,
      clipped: { bytes: CLIP, sha256: bigHash },
    });
    // The prefix artifact hashes to what the index says, and is in the manifest.
    expect(sha(fs.readFileSync(path.join(caseDir, big.clipped!.artifact!)))).toBe(bigHash);
    expect(index.find((e) => e.path === '/etc/zz-big.bin')).toMatchObject({
      size: 300000,
      clipped: { bytes: CLIP },
    });
    const reqs = readJson<RequestRecord[]>(path.join(caseDir, 'fs/diff-requests.json'));
    expect(reqs.find((r) => r.path === '/tmp/sparse')).toMatchObject({
      status: 'cut',
      stop: { reason: 'file-budget', size: 2 ** 40, prefix: { bytes: CLIP } },
    });
    const info = readJson<{ incomplete?: { step: string; reason: string }[] }>(
      path.join(caseDir, 'case.json'),
    );
    const reasons = (info.incomplete ?? []).map((i) => i.reason).join('\n');
    expect(reasons).toMatch(/\/tmp\/sparse clipped: 1\.0 TiB \(1099511627776 bytes\)/);
    expect(reasons).toMatch(/\/tmp\/big\.bin clipped/);
    expect(reasons).toMatch(/\/etc\/zz-big\.bin clipped/);
    expect(fs.statSync(path.join(caseDir, 'fs/diff.tar')).size).toBeLessThan(20 << 20);
  });

  test('GNU tar lists fs/diff.tar (with --ignore-zeros): every added file, no clipped member', () => {
    const listing = execFileSync(
      'tar',
      ['--ignore-zeros', '-tvf', path.join(caseDir, 'fs/diff.tar')],
      { maxBuffer: 64 << 20 },
    ).toString();
    const names = new Set(
      listing
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/).slice(5).join(' ')),
    );
    for (let i = 1; i <= MANY; i++) expect(names.has(`etc/f${i}`)).toBe(true);
    expect(names.has('sparse')).toBe(false);
    const content = execFileSync('tar', [
      '--ignore-zeros',
      '-xOf',
      path.join(caseDir, 'fs/diff.tar'),
      'etc/f42',
    ]).toString();
    expect(content).toBe('content 42\n');
  });
});

describe('collect:fs-diff: the container is removed during collection', () => {
  let docker: Docker;
  let tmp: string;
  let name: string;

  beforeAll(async () => {
    docker = await requireEngine();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-fsdiff-gone-'));
  });

  afterAll(async () => {
    await docker
      ?.getContainer(name)
      .remove({ force: true })
      .catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('exit 1, the step fails as "removed", the gap is in case.json, nothing is claimed deleted', async () => {
    name = uniquePrefix('fsdiff-gone');
    // 200 added top-level directories: one request each (/ is never fetched whole), then /etc/x1.
    // The engine holds a container's lock while an archive streams, so the removal lands between requests.
    await prepared(
      docker,
      name,
      'for i in $(seq 1 200); do mkdir /d$i && head -c 2048 /dev/urandom > /d$i/f; done && echo x > /etc/x1 && echo y > /tmp/y1',
    );
    const playbook = path.join(tmp, 'p.yaml');
    fs.writeFileSync(
      playbook,
      ['name: fs-diff-gone', 'steps:', '  - id: fs-diff', '    uses: collect:fs-diff', ''].join(
        '\n',
      ),
    );
    const tar = path.join(tmp, 'gone', 'fs/diff.tar');
    const running = run(playbook, name, tmp, 'gone');
    const deadline = Date.now() + 60_000;
    while (
      (fs.statSync(tar, { throwIfNoEntry: false })?.size ?? 0) < 20 * 1024 &&
      Date.now() < deadline
    )
      await new Promise((r) => setTimeout(r, 10));
    // Not execFileSync: the engine may wait for the archive being read to finish, which needs our event loop.
    await new Promise((resolve) => execFile('docker', ['rm', '-f', name], resolve));
    const r = await running;
    expect(r.exitCode).toBe(1);
    const caseDir = path.join(tmp, 'gone');
    const custody = jsonl<{ action: string; result: string; message?: string }>(
      path.join(caseDir, 'custody.jsonl'),
    );
    expect(custody.find((c) => c.action === 'collect:fs-diff')).toMatchObject({
      result: 'failed',
      message: expect.stringMatching(/was removed during the run/),
    });
    const reqs = readJson<RequestRecord[]>(path.join(caseDir, 'fs/diff-requests.json'));
    expect(reqs.filter((q) => q.status === 'missing')).toEqual([]);
    expect(reqs.some((q) => q.status === 'not-collected')).toBe(true);
    const info = readJson<{ status: string; incomplete?: { step: string; reason: string }[] }>(
      path.join(caseDir, 'case.json'),
    );
    const reasons = (info.incomplete ?? []).map((i) => i.reason).join('\n');
    expect(reasons).toMatch(
      /was removed during collect:fs-diff: content of \d+ changed path\(s\) not collected: \/d/,
    );
    expect(reqs.find((q) => q.path === '/etc/x1')).toMatchObject({ status: 'not-collected' });
    expect(info.status).toBe('failed');
    expect(r.out).not.toMatch(/gone since \/changes/);
  });
});
