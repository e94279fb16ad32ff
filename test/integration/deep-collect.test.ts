import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import type { FindingsDoc } from '../../src/findings/types.js';
import type { ProcessFileRecord } from '../../src/actions/collect-process-files.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, hostPid, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(180_000);

// Built at run time by the shell: the text is in its memory only, never in a file or its argv.
const MARKER = 'cirt-mem-marker-31337-q7';
const SETUP = [
  // Named after an applet: busybox picks the applet from argv[0].
  'cp /bin/busybox /tmp/sleep',
  'chmod 755 /tmp/sleep',
  'X="cirt-mem-$(echo marker)-$(echo 31337)-q7"',
  '/tmp/sleep 1000000 &',
  // Remove the binary only once the child has exec'd it: then it runs a deleted executable.
  'until [ "$(readlink /proc/$!/exe)" = /tmp/sleep ]; do :; done',
  'rm /tmp/sleep',
  'echo "$X" > /dev/null',
  // A file the shell keeps open after deleting it.
  'echo held-open-secret > /tmp/held',
  'exec 3</tmp/held',
  'rm /tmp/held',
  'touch /dev/shm/ready',
  'while :; do sleep 1; done',
].join('\n');

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

/** Whether `needle` occurs in the file, read in 1 MiB chunks with an overlap (cores can be large). */
function fileContains(file: string, needle: string): boolean {
  const n = Buffer.from(needle);
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1024 * 1024 + n.length);
    let carry = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, carry, buf.length - carry, null);
      if (!got) return false;
      const end = carry + got;
      if (buf.subarray(0, end).includes(n)) return true;
      carry = Math.min(n.length - 1, end);
      buf.copy(buf, 0, end - carry, end);
    }
  } finally {
    fs.closeSync(fd);
  }
}

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('collect:process-files and collect:memory on a fileless-looking container', () => {
  let docker: Docker;
  let prefix: string;
  let name: string;
  let tmp: string;
  let initPid: number;
  const runs: Record<string, { code: number; out: string; dir: string }> = {};

  async function run(caseId: string, steps: string[]): Promise<void> {
    const playbook = path.join(tmp, `${caseId}.yaml`);
    fs.writeFileSync(playbook, ['name: deep', 'steps:', ...steps, ''].join('\n'));
    const out = sink();
    const casesDir = path.join(tmp, 'cases');
    const r = await runCommand(
      { playbook, target: name, caseId, casesDir, yes: true },
      { out: out.stream, err: out.stream, interactive: false, env: process.env, cwd: tmp },
    );
    runs[caseId] = { code: r.exitCode, out: out.text(), dir: path.join(casesDir, caseId) };
    await docker
      .getContainer(name)
      .unpause()
      .catch(() => undefined);
  }

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    prefix = uniquePrefix('deep');
    name = `${prefix}-victim`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-deep-'));
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', SETUP],
      Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': prefix },
      // No network needed: these steps read the host's /proc only.
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    initPid = await hostPid(docker, c.id);
    await waitFor(`${name} to finish its setup`, async () =>
      fs.existsSync(`/proc/${initPid}/root/dev/shm/ready`),
    );
    // A YARA rule for the marker: it can only match the memory core (the marker is built at run time).
    const yaraRules = path.join(tmp, 'marker.yar');
    fs.writeFileSync(
      yaraRules,
      `rule cirt_mem_marker {\n  strings:\n    $m = "${MARKER}"\n  condition:\n    $m\n}\n`,
    );
    await run('deep', [
      '  - uses: contain:pause',
      '  - uses: collect:processes',
      '  - uses: collect:process-files',
      '  - uses: collect:memory',
      '    with: { pids: [' + initPid + '] }',
      '  - uses: evidence:yara',
      `    with: { rules: [${JSON.stringify(yaraRules)}] }`,
      '  - uses: evidence:timeline',
      '  - uses: evidence:findings',
      '  - uses: evidence:seal',
      '    with: { gzipLevel: 1 }',
    ]);
    await run('running', ['  - uses: collect:memory']);
    await run('clipped', [
      '  - uses: contain:pause',
      '  - uses: collect:memory',
      '    with: { pids: [' + initPid + '], maxProcessBytes: 64KiB }',
    ]);
  });

  afterAll(async () => {
    if (docker && prefix) await cleanupPrefix(docker, prefix);
    if (tmp && !process.env.CIRT_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the deleted busybox is recovered byte-exact and the finding names its hash', () => {
    const r = runs.deep;
    expect({ code: r.code, out: r.out }).toEqual({ code: 0, out: expect.any(String) });
    const busybox = sha(fs.readFileSync('/usr/bin/busybox'));
    const index = readJson<ProcessFileRecord[]>(path.join(r.dir, 'procfiles/index.json'));
    const hit = index.find((f) => f.kind === 'exe' && f.link === '/tmp/sleep (deleted)');
    expect(hit).toMatchObject({ deleted: true, memfd: false, complete: true, sha256: busybox });
    expect(sha(fs.readFileSync(path.join(r.dir, hit!.artifact!)))).toBe(busybox);
    const held = index.find((x) => x.kind === 'fd' && x.link === '/tmp/held (deleted)');
    expect(held).toMatchObject({ pid: initPid, fd: 3, deleted: true, complete: true });
    expect(fs.readFileSync(path.join(r.dir, held!.artifact!), 'utf8')).toBe('held-open-secret\n');
    const findings = readJson<FindingsDoc>(path.join(r.dir, 'findings.json'));
    const f = findings.findings.find((x) => x.rule === 'deleted-executable');
    expect(f).toMatchObject({ technique: 'T1070.004' });
    expect(f!.summary).toContain(busybox);
    // The init shell runs /bin/busybox, which is still there: no finding for it.
    expect(findings.findings.filter((x) => x.rule === 'deleted-executable')).toHaveLength(1);
    const timeline = fs.readFileSync(path.join(r.dir, 'timeline/timeline.jsonl'), 'utf8');
    expect(timeline).toContain('process:deleted-exe');
  });

  test('the marker only in memory is in the core, readelf lists its LOAD segments, the seal lists it', () => {
    const r = runs.deep;
    const core = path.join(r.dir, `memory/${initPid}.core`);
    expect(fileContains(core, MARKER)).toBe(true);
    const phdrs = execFileSync('readelf', ['-l', '-n', core], { encoding: 'utf8' });
    expect(phdrs).toContain('Elf file type is CORE');
    expect(phdrs).toMatch(/LOAD/);
    expect(phdrs).toContain('NT_PRPSINFO');
    expect(phdrs).toContain('NT_FILE');
    // The NT_FILE note names the mapped binary (some readelf builds cannot decode it, so look at the bytes).
    expect(fileContains(core, '/bin/busybox\0')).toBe(true);
    const sums = fs.readFileSync(path.join(r.dir, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain(`${sha(fs.readFileSync(core))}  memory/${initPid}.core`);
    const side = readJson<{ mappings: { status: string; reason?: string }[] }>(
      path.join(r.dir, `memory/${initPid}.json`),
    );
    expect(side.mappings.some((m) => m.status === 'read')).toBe(true);
    // Not-readable mappings are listed with why, not dropped.
    expect(side.mappings.filter((m) => m.status === 'skipped').every((m) => m.reason)).toBe(true);
  });

  test('evidence:yara finds the in-memory marker in the memory core and a finding cites it', () => {
    const r = runs.deep;
    const doc = readJson<{ matches: { rule: string; artifact: string; fileOffset?: number }[] }>(
      path.join(r.dir, 'yara/matches.json'),
    );
    const hits = doc.matches.filter((m) => m.rule === 'cirt_mem_marker');
    expect(hits.map((m) => m.artifact)).toContain(`memory/${initPid}.core`);
    const findings = readJson<FindingsDoc>(path.join(r.dir, 'findings.json'));
    expect(findings.findings.some((x) => x.rule === 'yara-match')).toBe(true);
  });

  test('a running container is refused; a clipped budget is a gap, recorded per mapping', () => {
    expect(runs.running.code).toBe(1);
    expect(runs.running.out).toContain('not paused');
    expect(fs.existsSync(path.join(runs.running.dir, `memory/${initPid}.core`))).toBe(false);
    const c = runs.clipped;
    expect(c.code).toBe(1);
    const side = readJson<{ mappings: { status: string; fileBytes: number }[] }>(
      path.join(c.dir, `memory/${initPid}.json`),
    );
    expect(side.mappings.some((m) => m.status === 'clipped')).toBe(true);
    expect(side.mappings.reduce((n, m) => n + m.fileBytes, 0)).toBeLessThanOrEqual(64 * 1024);
  });
});
