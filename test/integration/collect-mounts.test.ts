import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import type { MountIndexLine } from '../../src/collect/mount-content.js';
import type { MountRecord } from '../../src/collect/mount-plan.js';
import { runCommand } from '../../src/cli/commands/run.js';
import type { FindingsDoc } from '../../src/findings/types.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, hostPid, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

jest.setTimeout(300_000);

const DROPPER = Buffer.from('#!/bin/sh\necho CIRT-SHM-DROPPER\n');
const HOSTS_LINE = '6.6.6.6 bank.example.com';
const ANON = 'anon-volume-secret\n';
const NAMED = 'named-volume-secret\n';
const BIG_BYTES = 200 * 1024;
const CLIP = 64 * 1024;

// Everything an attacker leaves outside the container's layer; `ready` last, so the test knows it is all there.
const SETUP = [
  `printf '#!/bin/sh\\necho CIRT-SHM-DROPPER\\n' > /dev/shm/.x`,
  'chmod 755 /dev/shm/.x',
  // No writer ever: opening it for reading would block forever.
  'mkfifo /dev/shm/pipe',
  'ln -s /etc/shadow /dev/shm/shadow-link',
  `echo '${HOSTS_LINE}' >> /etc/hosts`,
  `printf '${ANON.replace('\n', '\\n')}' > /data/note.txt`,
  `printf '${NAMED.replace('\n', '\\n')}' > /named/n.txt`,
  `dd if=/dev/zero bs=1024 count=${BIG_BYTES / 1024} 2>/dev/null | tr '\\000' A > /dev/shm/big`,
  'echo tmp > /scratch/t.txt',
  'mkdir -p /scratch/a/b && echo deep > /scratch/a/b/c',
  // Many small files in the named volume: enough to keep the helper walking past a 1 s timeout.
  'mkdir /named/many && i=0 && while [ $i -lt 3000 ]; do : > /named/many/f$i; i=$((i+1)); done',
  'touch /dev/shm/ready',
  // An anonymous volume over a temp directory: its files are the container's too.
  `printf '#!/bin/sh\\necho CIRT-VOLUME-DROPPER\\n' > /var/tmp/.y`,
  'chmod 755 /var/tmp/.y',
  'while true; do sleep 1; done',
].join('\n');

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const jsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

function filesUnder(root: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, d.name);
    if (d.isDirectory()) out.push(...filesUnder(p));
    else if (d.isFile()) out.push(p);
  }
  return out;
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('collect:mounts on a container with a tmpfs, volumes and an edited /etc/hosts', () => {
  let docker: Docker;
  let prefix: string;
  let volume: string;
  let name: string;
  let tmp: string;
  let proxy: net.Server | undefined;
  const open = new Set<net.Socket>();
  const runs: Record<string, { code: number; out: string; dir: string }> = {};
  let timeoutRunMs = 0;

  async function run(
    caseId: string,
    withLines: string[],
    extraSteps: string[] = [],
    env: NodeJS.ProcessEnv = process.env,
    casesDir = path.join(tmp, 'cases'),
  ): Promise<void> {
    const playbook = path.join(tmp, `${caseId}.yaml`);
    fs.writeFileSync(
      playbook,
      [
        'name: mounts',
        'steps:',
        '  - uses: contain:pause',
        '  - uses: collect:mounts',
        ...(withLines.length ? ['    with:', ...withLines.map((l) => `      ${l}`)] : []),
        ...extraSteps,
        '',
      ].join('\n'),
    );
    const out = sink();
    const r = await runCommand(
      { playbook, target: name, caseId, casesDir, yes: true },
      { out: out.stream, err: out.stream, interactive: false, env, cwd: tmp },
    );
    runs[caseId] = { code: r.exitCode, out: out.text(), dir: path.join(casesDir, caseId) };
    // Unpause for the next run (each starts with contain:pause).
    await docker
      .getContainer(name)
      .unpause()
      .catch(() => undefined);
  }

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    prefix = uniquePrefix('mounts');
    volume = `${prefix}-named`;
    name = `${prefix}-victim`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-mounts-'));
    await docker.createVolume({
      Name: volume,
      Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': prefix },
    });
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', SETUP],
      Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': prefix },
      Volumes: { '/data': {}, '/var/tmp': {} },
      HostConfig: { Binds: [`${volume}:/named`], Tmpfs: { '/scratch': 'size=8m' } },
    });
    await c.start();
    const pid = await hostPid(docker, c.id);
    await waitFor(`${name} to finish its setup`, async () =>
      fs.existsSync(`/proc/${pid}/root/dev/shm/ready`),
    );
    await run(
      'default',
      ['maxFileBytes: 64KiB'],
      [
        '  - uses: evidence:timeline',
        '  - uses: evidence:findings',
        '  - uses: evidence:seal',
        '    with: { gzipLevel: 1 }',
      ],
    );
    await run('opt-in', ['volumes: true', 'maxTotalBytes: 100']);
    await run('depth', ['maxDepth: 1']);
    await run('counts', ['maxFiles: 30']);
    // The same engine over TCP is a remote engine to cirt: no host /proc.
    proxy = net.createServer((sock) => {
      const up = net.connect('/var/run/docker.sock');
      open.add(sock).add(up);
      sock.pipe(up).on('error', () => sock.destroy());
      up.pipe(sock).on('error', () => up.destroy());
      sock.on('error', () => up.destroy());
      up.on('error', () => sock.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    const port = (proxy.address() as net.AddressInfo).port;
    const remoteEnv = { ...process.env, DOCKER_HOST: `tcp://127.0.0.1:${port}` };
    await run(
      'remote',
      ['maxFileBytes: 64KiB', `helperImage: ${LAB_IMAGE}`],
      ['  - uses: evidence:findings'],
      remoteEnv,
    );
    await run('remote-total', ['maxTotalBytes: 100', `helperImage: ${LAB_IMAGE}`], [], remoteEnv);
    await run(
      'remote-counts',
      ['maxFiles: 30', 'maxDepth: 1', `helperImage: ${LAB_IMAGE}`],
      [],
      remoteEnv,
    );
    const t0 = Date.now();
    await run(
      'remote-timeout',
      ['volumes: true', 'helperTimeout: 1', `helperImage: ${LAB_IMAGE}`],
      [],
      remoteEnv,
    );
    timeoutRunMs = Date.now() - t0;
  });

  afterAll(async () => {
    for (const sock of open) sock.destroy();
    proxy?.close();
    if (docker && prefix) await cleanupPrefix(docker, prefix);
    if (docker && volume)
      await docker
        .getVolume(volume)
        .remove()
        .catch(() => undefined);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('every mount is listed with its kind and what was collected of it', () => {
    const r = runs.default;
    // /dev/shm is clipped by maxFileBytes: a gap, so the step is partial and the run incomplete (exit 1).
    expect({ code: r.code, out: r.out }).toMatchObject({ code: 1 });
    expect(r.out).toMatch(
      /^ {2}◐ \S+ \(collect:mounts\) partial: .*PARTIAL: \d+ gap\(s\) noted in .*case\.json "incomplete"/m,
    );
    expect(r.out).toMatch(/^INCOMPLETE: 1 step\(s\) partial: \d+ gap\(s\)/m);
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    const at = (mp: string) => mounts.find((m) => m.mountPoint === mp);
    expect(at('/')).toMatchObject({ kind: 'rootfs', collected: 'no' });
    expect(at('/proc')).toMatchObject({ kind: 'kernel', collected: 'no' });
    expect(at('/dev/shm')).toMatchObject({ kind: 'tmpfs', fsType: 'tmpfs', collected: 'partly' });
    expect(at('/scratch')).toMatchObject({ kind: 'tmpfs', collected: 'yes' });
    expect(at('/data')).toMatchObject({ kind: 'anonymous-volume', collected: 'yes' });
    expect(at('/named')).toMatchObject({ kind: 'named-volume', source: volume, collected: 'no' });
    expect(at('/named')?.why).toMatch(/volumes: true/);
    for (const f of ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])
      expect(at(f)).toMatchObject({ kind: 'engine-file', collected: 'yes' });
    expect(r.out).toMatch(/NOT collected \([^)]*\/named/);
  });

  test('the sealed bundle with the mount archives verifies', async () => {
    const v = await runCli(['verify', path.join(tmp, 'cases', 'default.tar.gz')]);
    expect({ code: v.code, out: v.out }).toMatchObject({
      code: 0,
      out: expect.stringContaining('VALID'),
    });
  });

  test('the /dev/shm dropper is collected byte-exact and flagged by executable-in-temp; the timeline has it', () => {
    const r = runs.default;
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    const shm = mounts.find((m) => m.mountPoint === '/dev/shm')!;
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    expect(index.find((l) => l.path === '/dev/shm/.x')).toMatchObject({
      mount: shm.n,
      type: 'file',
      mode: 0o755,
      size: DROPPER.length,
      taken: DROPPER.length,
      sha256: sha(DROPPER),
      change: 'added',
    });
    // GNU tar reads our archive; the bytes are read to stdout, nothing is extracted.
    const got = execFileSync('tar', ['-xOf', path.join(r.dir, shm.tar!), 'dev/shm/.x']);
    expect(sha(got)).toBe(sha(DROPPER));
    const findings = readJson<FindingsDoc>(path.join(r.dir, 'findings.json'));
    const hit = findings.findings.find(
      (f) => f.rule === 'executable-in-temp' && f.summary.includes('/dev/shm/.x'),
    );
    expect(hit?.evidence).toEqual(
      expect.arrayContaining([expect.objectContaining({ artifact: 'fs/mounts-index.jsonl' })]),
    );
    // In an anonymous volume: born after the container was created, so added.
    expect(
      findings.findings.some(
        (f) => f.rule === 'executable-in-temp' && f.summary.includes('/var/tmp/.y'),
      ),
    ).toBe(true);
    const timeline = fs.readFileSync(path.join(r.dir, 'timeline/timeline.jsonl'), 'utf8');
    expect(timeline).toContain('/dev/shm/.x');
  });

  test('the edited /etc/hosts and the anonymous volume file are collected', () => {
    const r = runs.default;
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    const hosts = execFileSync('tar', [
      '-xOf',
      path.join(r.dir, mounts.find((m) => m.mountPoint === '/etc/hosts')!.tar!),
      'etc/hosts',
    ]).toString();
    expect(hosts).toContain(HOSTS_LINE);
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    expect(index.find((l) => l.path === '/data/note.txt')).toMatchObject({
      type: 'file',
      sha256: sha(ANON),
      taken: ANON.length,
    });
    expect(index.find((l) => l.path === '/named/n.txt')).toBeUndefined();
  });

  test("reading a file does not move its access time (O_NOATIME): the second run sees the first run's atime", () => {
    const first = jsonl<MountIndexLine>(path.join(runs.default.dir, 'fs/mounts-index.jsonl')).find(
      (l) => l.path === '/dev/shm/.x',
    )!;
    const second = jsonl<MountIndexLine>(
      path.join(runs['opt-in'].dir, 'fs/mounts-index.jsonl'),
    ).find((l) => l.path === '/dev/shm/.x')!;
    expect(first.taken).toBe(DROPPER.length);
    expect(second.atime).toBe(first.atime);
  });

  test('the FIFO is recorded, not opened; the symlink to /etc/shadow is a symlink, and the host shadow is in no artifact', () => {
    const r = runs.default;
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    expect(index.find((l) => l.path === '/dev/shm/pipe')).toMatchObject({
      type: 'fifo',
      taken: 0,
      sha256: null,
    });
    expect(index.find((l) => l.path === '/dev/shm/shadow-link')).toMatchObject({
      type: 'symlink',
      linkname: '/etc/shadow',
      taken: 0,
      sha256: null,
    });
    const shm = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json')).find(
      (m) => m.mountPoint === '/dev/shm',
    )!;
    const listing = execFileSync('tar', ['-tvf', path.join(r.dir, shm.tar!)]).toString();
    expect(listing).toMatch(/^p.* dev\/shm\/pipe$/m);
    expect(listing).toMatch(/^l.* dev\/shm\/shadow-link -> \/etc\/shadow$/m);
    const hostShadow = fs.readFileSync('/etc/shadow');
    expect(hostShadow.length).toBeGreaterThan(0);
    for (const f of [...filesUnder(runs.default.dir), ...filesUnder(runs['opt-in'].dir)])
      expect({ f, found: fs.readFileSync(f).includes(hostShadow) }).toEqual({ f, found: false });
  });

  test('the per-file budget clips the big file to a marked prefix and the case lists the gaps', () => {
    const r = runs.default;
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    expect(index.find((l) => l.path === '/dev/shm/big')).toMatchObject({
      size: BIG_BYTES,
      taken: CLIP,
      truncated: true,
      sha256: sha(Buffer.alloc(CLIP, 'A')),
    });
    const info = readJson<{
      incomplete?: { step: string; reason: string }[];
      limitations?: { step: string; reason: string }[];
    }>(path.join(r.dir, 'case.json'));
    const gaps = (info.incomplete ?? []).map((g) => g.reason);
    expect(gaps).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mount \/dev\/shm \(tmpfs.*partly collected: 1 file\(s\) cut/),
      ]),
    );
    // The named volume the responder did not opt into is a limitation, not a gap of the step.
    expect(gaps.some((g) => g.startsWith('mount /named '))).toBe(false);
    expect((info.limitations ?? []).map((g) => g.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mount \/named \(named-volume.*not collected.*volumes: true/),
      ]),
    );
    // The report the auditor reads names them too (it said "Incomplete (0)" before).
    // (Markdown-escaped there: drop the escapes to compare.)
    const report = fs.readFileSync(path.join(r.dir, 'report.md'), 'utf8').replace(/\\(.)/g, '$1');
    expect(report.split('\n')[0]).toMatch(
      /^> \*\*INCOMPLETE: \d+ gaps? — see below; ended partial: step "[^"]+" \(collect:mounts\)/,
    );
    expect(report).toMatch(/## Incomplete \([1-9]\d*\)/);
    const incomplete = report.slice(
      report.indexOf('## Incomplete'),
      report.indexOf('## Limitations'),
    );
    expect(incomplete).toContain('mount /dev/shm (tmpfs, shm) partly collected');
    expect(report.slice(report.indexOf('## Limitations'), report.indexOf('## Custody'))).toContain(
      `mount /named (named-volume, ${volume}) not collected`,
    );
  });

  test('with volumes: true the named volume is collected; the total budget cuts and says so', () => {
    const r = runs['opt-in'];
    // Cut by the total budget: partial step, incomplete run.
    expect(r.code).toBe(1);
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    const named = mounts.find((m) => m.mountPoint === '/named')!;
    expect(named.kind).toBe('named-volume');
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    const n = index.find((l) => l.path === '/named/n.txt');
    expect(n).toMatchObject({ mount: named.n, size: NAMED.length });
    // 100 bytes for the whole step: the mounts walked first (alphabetical) take them, later files keep their metadata only.
    const taken = index.reduce((s, l) => s + l.taken, 0);
    expect(taken).toBeLessThanOrEqual(100);
    expect(index.some((l) => l.truncated && /maxTotalBytes/.test(l.note ?? ''))).toBe(true);
    const gaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(r.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(gaps.some((g) => /partly collected/.test(g))).toBe(true);
  });

  test('maxDepth and maxFiles cut the walk, and the cuts are gaps in the case', () => {
    const d = runs.depth;
    expect(d.code).toBe(1);
    const deep = jsonl<MountIndexLine>(path.join(d.dir, 'fs/mounts-index.jsonl'));
    expect(deep.find((l) => l.path === '/scratch/a')).toMatchObject({ type: 'directory' });
    expect(deep.find((l) => l.path === '/scratch/a/b')).toBeUndefined();
    const dm = readJson<MountRecord[]>(path.join(d.dir, 'fs/mounts.json'));
    expect(dm.find((m) => m.mountPoint === '/scratch')).toMatchObject({
      collected: 'partly',
      why: expect.stringContaining('/scratch/a: deeper than maxDepth 1, not walked'),
    });
    const dgaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(d.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(
      dgaps.some((g) => g.startsWith('mount /scratch (tmpfs') && g.includes('maxDepth 1')),
    ).toBe(true);

    const r = runs.counts;
    expect(r.code).toBe(1);
    expect(jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'))).toHaveLength(30);
    const gaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(r.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(gaps.some((g) => /maxFiles 30/.test(g))).toBe(true);
  });

  test('on a remote engine the mounts are listed (mountinfo through a helper container) and their content is collected through it', () => {
    const r = runs.remote;
    // The big file is clipped by the per-file budget: a gap, so the step is partial and the run incomplete (exit 1).
    expect({ code: r.code }).toEqual({ code: 1 });
    expect(r.out).not.toMatch(/no content:/);
    // Read by the helper: only mountinfo knows of /proc and the masked paths.
    expect(fs.readFileSync(path.join(r.dir, 'fs/mountinfo.txt'), 'utf8')).toMatch(
      / \/dev\/shm .* - tmpfs /,
    );
    const manifest = readJson<{ artifacts: { path: string; source: string }[] }>(
      path.join(r.dir, 'manifest.json'),
    );
    expect(manifest.artifacts.find((a) => a.path === 'fs/mountinfo.txt')?.source).toMatch(
      /^helper container cirt-helper-/,
    );
    expect(manifest.artifacts.find((a) => a.path === 'fs/mounts-index.jsonl')?.source).toMatch(
      /via helper container cirt-helper-[0-9a-f]{12}-[0-9a-f]{6} \(image .*\) reading \/proc\/1\/root/,
    );
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    const shm = mounts.find((m) => m.mountPoint === '/dev/shm')!;
    expect(shm).toMatchObject({ kind: 'tmpfs', fsType: 'tmpfs', collected: 'partly' });
    expect(manifest.artifacts.find((a) => a.path === shm.tar)?.source).toMatch(
      /reading \/proc\/1\/root\/dev\/shm/,
    );
    expect(mounts.find((m) => m.mountPoint === '/scratch')).toMatchObject({
      kind: 'tmpfs',
      collected: 'yes',
    });
    expect(mounts.find((m) => m.mountPoint === '/data')).toMatchObject({
      kind: 'anonymous-volume',
      collected: 'yes',
    });
    expect(mounts.find((m) => m.mountPoint === '/named')).toMatchObject({
      kind: 'named-volume',
      collected: 'no',
    });
    for (const f of ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])
      expect(mounts.find((m) => m.mountPoint === f)).toMatchObject({
        kind: 'engine-file',
        collected: 'yes',
      });
    expect(mounts.find((m) => m.mountPoint === '/proc')).toMatchObject({ kind: 'kernel' });
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    // The dropper, byte-exact, and the finding on it.
    expect(index.find((l) => l.path === '/dev/shm/.x')).toMatchObject({
      mount: shm.n,
      type: 'file',
      mode: 0o755,
      size: DROPPER.length,
      taken: DROPPER.length,
      sha256: sha(DROPPER),
      change: 'added',
    });
    expect(sha(execFileSync('tar', ['-xOf', path.join(r.dir, shm.tar!), 'dev/shm/.x']))).toBe(
      sha(DROPPER),
    );
    const findings = readJson<FindingsDoc>(path.join(r.dir, 'findings.json'));
    expect(
      findings.findings.some(
        (f) => f.rule === 'executable-in-temp' && f.summary.includes('/dev/shm/.x'),
      ),
    ).toBe(true);
    // The anonymous volume's file and the edited /etc/hosts.
    expect(index.find((l) => l.path === '/data/note.txt')).toMatchObject({
      type: 'file',
      sha256: sha(ANON),
      taken: ANON.length,
    });
    const hostsTar = mounts.find((m) => m.mountPoint === '/etc/hosts')!.tar!;
    expect(
      execFileSync('tar', ['-xOf', path.join(r.dir, hostsTar), 'etc/hosts']).toString(),
    ).toContain(HOSTS_LINE);
    // The writer-less FIFO is recorded (the run above did not hang on it); the link is a link.
    expect(index.find((l) => l.path === '/dev/shm/pipe')).toMatchObject({
      type: 'fifo',
      taken: 0,
      sha256: null,
    });
    expect(index.find((l) => l.path === '/dev/shm/shadow-link')).toMatchObject({
      type: 'symlink',
      linkname: '/etc/shadow',
      taken: 0,
      sha256: null,
    });
    const listing = execFileSync('tar', ['-tvf', path.join(r.dir, shm.tar!)]).toString();
    expect(listing).toMatch(/^p.* dev\/shm\/pipe$/m);
    expect(listing).toMatch(/^l.* dev\/shm\/shadow-link -> \/etc\/shadow$/m);
    const hostShadow = fs.readFileSync('/etc/shadow');
    for (const f of [...filesUnder(r.dir), ...filesUnder(runs['remote-total'].dir)])
      expect({ f, found: fs.readFileSync(f).includes(hostShadow) }).toEqual({ f, found: false });
    // Every index line points at its header in its tar: the offsets are right.
    for (const l of index.filter((x) => x.offset !== null && x.mount === shm.n)) {
      const head = Buffer.alloc(512);
      const fd = fs.openSync(path.join(r.dir, shm.tar!), 'r');
      fs.readSync(fd, head, 0, 512, l.offset!);
      fs.closeSync(fd);
      expect(
        head.subarray(0, 100).toString('latin1').replace(/\0.*$/s, '').replace(/\/$/, ''),
      ).toBe(l.path.slice(1));
    }
    // The per-file budget clipped the big file; the gap is in the case.
    expect(index.find((l) => l.path === '/dev/shm/big')).toMatchObject({
      size: BIG_BYTES,
      taken: CLIP,
      truncated: true,
      sha256: sha(Buffer.alloc(CLIP, 'A')),
    });
    const info = readJson<{
      incomplete?: { reason: string }[];
      limitations?: { reason: string }[];
    }>(path.join(r.dir, 'case.json'));
    const gaps = (info.incomplete ?? []).map((g) => g.reason);
    expect(gaps).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mount \/dev\/shm \(tmpfs.*partly collected: 1 file\(s\) cut/),
      ]),
    );
    // /named was not opted into (volumes: true): a limitation, not a gap.
    expect((info.limitations ?? []).map((g) => g.reason)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^mount \/named \(named-volume.*not collected.*volumes: true/),
      ]),
    );
    expect(
      gaps.some((g) => g.startsWith('mount /data (') || g.startsWith('mount /scratch (')),
    ).toBe(false);
  });

  test('on a remote engine the total budget holds across mounts, later files keep their metadata, and the gaps say so', () => {
    const r = runs['remote-total'];
    // Budget gaps: partial step, incomplete run (exit 1).
    expect({ code: r.code, out: r.out }).toMatchObject({ code: 1 });
    const index = jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'));
    expect(index.reduce((s, l) => s + l.taken, 0)).toBeLessThanOrEqual(100);
    expect(index.some((l) => l.truncated && /maxTotalBytes/.test(l.note ?? ''))).toBe(true);
    expect(index.find((l) => l.path === '/dev/shm/big')).toMatchObject({
      size: BIG_BYTES,
      truncated: true,
    });
    const gaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(r.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(gaps.some((g) => /partly collected/.test(g))).toBe(true);
  });

  test("on a remote engine maxFiles and maxDepth cut the helper's walk as they cut the local one", () => {
    const r = runs['remote-counts'];
    expect({ code: r.code, out: r.out }).toMatchObject({ code: 1 });
    expect(jsonl<MountIndexLine>(path.join(r.dir, 'fs/mounts-index.jsonl'))).toHaveLength(30);
    const gaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(r.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(gaps.some((g) => /more entries than maxFiles 30/.test(g))).toBe(true);
    expect(gaps.some((g) => /not walked, the step recorded maxFiles 30/.test(g))).toBe(true);
    expect(
      gaps.some(
        (g) =>
          g.startsWith('mount /scratch (tmpfs') && g.includes('/scratch/a: deeper than maxDepth 1'),
      ),
    ).toBe(true);
  });

  test('on a remote engine a helper past its timeout is removed, what it sent is kept and the rest are gaps', async () => {
    const r = runs['remote-timeout'];
    expect({ code: r.code, out: r.out }).toMatchObject({ code: 1 });
    expect(timeoutRunMs).toBeLessThan(30_000);
    expect(r.out).toMatch(/did not finish within 1 s/);
    const mounts = readJson<MountRecord[]>(path.join(r.dir, 'fs/mounts.json'));
    expect(mounts.some((m) => /did not finish within 1 s/.test(m.why ?? ''))).toBe(true);
    expect(mounts.find((m) => m.mountPoint === '/var/tmp')).toMatchObject({ collected: 'no' });
    const gaps = (
      readJson<{ incomplete?: { reason: string }[] }>(path.join(r.dir, 'case.json')).incomplete ??
      []
    ).map((g) => g.reason);
    expect(gaps.some((g) => g.startsWith('mount /var/tmp (') && /not collected/.test(g))).toBe(
      true,
    );
    const left = await docker.listContainers({
      all: true,
      filters: { label: ['cirt.helper=1', 'cirt.case=remote-timeout'] },
    });
    expect(left).toEqual([]);
  });
});
