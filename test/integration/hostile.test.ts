import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import { main } from '../../src/cli/main.js';
import type { IndexLine } from '../../src/evidence/diff-writer.js';
import type { StatRecord } from '../../src/host/fs-stat.js';
import { startHostile, type HostileLab } from '../fixtures/hostile.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(600_000);

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const d of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      out.push(r);
      if (d.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}

/** True when `needle` occurs in the file (streamed, with overlap so a match across chunks is found). */
function fileContains(file: string, needle: Buffer): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(8 << 20);
    let carry = Buffer.alloc(0);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (!n) return false;
      const hay = Buffer.concat([carry, buf.subarray(0, n)]);
      if (hay.includes(needle)) return true;
      carry = hay.subarray(Math.max(0, hay.length - needle.length + 1));
    }
  } finally {
    fs.closeSync(fd);
  }
}

const jsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

describe('collecting a hostile container', () => {
  let docker: Docker;
  let lab: HostileLab;
  let tmp: string;
  let casesDir: string;
  let caseDir: string;
  let before: string[];
  let runOut: string;
  let exitCode: number;
  const caseId = 'hostile-case';

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await startHostile(docker, uniquePrefix('hostile'));
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-hostile-'));
    casesDir = path.join(tmp, 'cases');
    const playbook = path.join(tmp, 'hostile.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: hostile-collect',
        'steps:',
        '  - uses: contain:pause',
        '  - uses: collect:logs',
        '  - uses: collect:fs-diff',
        '  - uses: evidence:seal',
        '    always: true',
        '    with:',
        '      gzipLevel: 1',
        '',
      ].join('\n'),
    );
    before = listTree(tmp);
    const out = sink();
    const r = await runCommand(
      { playbook, target: lab.name, caseId, casesDir, yes: true },
      { out: out.stream, err: out.stream, interactive: false, env: process.env, cwd: tmp },
    );
    exitCode = r.exitCode;
    runOut = out.text();
    caseDir = path.join(casesDir, caseId);
  });

  afterAll(async () => {
    await lab?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the run ends incomplete (exit 1: the engine refused non-UTF-8 names, gaps of fs-diff) and its terminal output carries no raw control characters', () => {
    expect(exitCode).toBe(1);
    expect(runOut).toMatch(/^ {2}◐ fs-diff \(collect:fs-diff\) partial: .*PARTIAL: \d+ gap\(s\)/m);
    expect(runOut).toMatch(/^INCOMPLETE: 1 step\(s\) partial: \d+ gap\(s\) noted/m);
    expect(runOut).not.toMatch(/^OK:/m);

    expect(runOut).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(runOut).toMatch(/the engine cannot archive a path whose name is not UTF-8/);
  });

  test('every hostile name is indexed with its exact bytes and the hash of its content', () => {
    const index = jsonl<IndexLine>(path.join(caseDir, 'fs/diff-index.jsonl'));
    const byBytes = new Map(
      index.map((e) => [
        (e.pathB64 ? Buffer.from(e.pathB64, 'base64') : Buffer.from(e.path)).toString('latin1'),
        e,
      ]),
    );
    for (const f of [...lab.files, ...lab.topLevel, lab.big]) {
      const e = byBytes.get(f.path.toString('latin1'));
      expect({ path: f.path.toString('utf8'), sha256: e?.sha256, size: e?.size }).toEqual({
        path: f.path.toString('utf8'),
        sha256: f.sha256,
        size: f.size,
      });
    }
    expect(
      index.filter((e) => e.path.startsWith(`${lab.manyDir}/f`) && e.type === 'file'),
    ).toHaveLength(lab.manyCount);
    for (const l of lab.symlinks)
      expect(byBytes.get(l.path)).toMatchObject({
        type: 'symlink',
        linkname: l.target,
        sha256: null,
      });
    const deleted = JSON.parse(
      fs.readFileSync(path.join(caseDir, 'fs/deleted.json'), 'utf8'),
    ) as string[];
    expect(deleted).toEqual(expect.arrayContaining(lab.deleted));
  });

  test('GNU tar reads diff.tar (with --ignore-zeros) and finds the same content, without extracting anything', () => {
    const listing = execFileSync(
      'tar',
      ['--ignore-zeros', '-tf', path.join(caseDir, 'fs/diff.tar')],
      { maxBuffer: 64 << 20 },
    );
    const entries = listing.toString('latin1').split('\n').filter(Boolean);
    expect(entries.length).toBeGreaterThanOrEqual(lab.manyCount + lab.files.length);
    const big = execFileSync('sh', [
      '-c',
      `tar --ignore-zeros -xOf "$1" hostile/big.bin | sha256sum`,
      'sh',
      path.join(caseDir, 'fs/diff.tar'),
    ])
      .toString()
      .split(' ')[0];
    expect(big).toBe(lab.big.sha256);
  });

  test('links are recorded as links: stat.jsonl never follows them; the host /etc/shadow is in no artifact', () => {
    const stats = jsonl<StatRecord>(path.join(caseDir, 'fs/stat.jsonl'));
    for (const l of lab.symlinks)
      expect(stats.find((s) => s.path === l.path)).toMatchObject({
        type: 'symlink',
        linkTarget: l.target,
      });
    const hostShadow = fs.readFileSync('/etc/shadow');
    expect(hostShadow.length).toBeGreaterThan(0);
    const files = listTree(caseDir)
      .map((r) => path.join(caseDir, r))
      .filter((f) => fs.lstatSync(f).isFile());
    for (const f of [...files, path.join(casesDir, `${caseId}.tar.gz`)])
      expect({ f, found: fileContains(f, hostShadow) }).toEqual({ f, found: false });
  });

  test('escape sequences and the 1 MiB line are kept in the log artifact', () => {
    const log = fs.readFileSync(path.join(caseDir, 'logs/stdout.log'));
    expect(log.includes(Buffer.from('\u001b]0;pwned-title\u0007'))).toBe(true);
    expect(log.includes(Buffer.from('\u001b[1;31mRED'))).toBe(true);
    // The engine splits a log line into 16 KiB partial messages, each with its own time: all 1 MiB is there.
    let a = 0;
    for (const b of log) if (b === 0x41) a++;
    expect(a).toBeGreaterThanOrEqual(1 << 20);
    expect(log.includes(Buffer.alloc(16 << 10, 'A'))).toBe(true);
  });

  test('nothing was written outside the case folder and its bundle', () => {
    const after = listTree(tmp);
    const added = after.filter((p) => !before.includes(p));
    const allowed = (p: string): boolean =>
      p === 'cases' ||
      p === `cases/${caseId}` ||
      p.startsWith(`cases/${caseId}/`) ||
      p === `cases/${caseId}.tar.gz` ||
      p === `cases/${caseId}.tar.gz.sha256`;
    expect(added.filter((p) => !allowed(p))).toEqual([]);
    expect(
      fs.readdirSync(os.tmpdir()).filter((n) => /kworkerd|big\.bin|shadow-link|^hostile$/.test(n)),
    ).toEqual([]);
  });

  test('the sealed case verifies with cirt and with stock tools despite the hostile names inside', async () => {
    const out = sink();
    const code = await main(['verify', path.join(casesDir, `${caseId}.tar.gz`)], {
      out: out.stream,
      err: out.stream,
      interactive: false,
      env: process.env,
      cwd: tmp,
    });
    expect({ code, out: out.text() }).toMatchObject({ code: 0 });
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: caseDir });
    const report = fs.readFileSync(path.join(caseDir, 'report.md'), 'utf8');
    expect(report).toMatch(/engine cannot archive a path whose name is not UTF-8/);
  });
});
