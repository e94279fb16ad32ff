import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { compromisedCase, iso, writeCase } from '../fixtures/case-folder.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { checkManifest, runSteps } from '../helpers/case-check.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

/**
 * One huge log line (an attacker's 560 MB without a newline) once made evidence:timeline fail with
 * "Invalid string length" and `cirt timeline` show 0 events. The line is clipped in the timeline,
 * every other event is kept, and the reading process stays small — checked in a child process.
 */

jest.setTimeout(300_000);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DIST = path.join(ROOT, 'dist', 'src');

/** Writes `logs/stdout.log` as a stream: a normal line, `hugeBytes` of 'A' with no newline, normal lines. */
async function writeHugeLog(file: string, hugeBytes: number): Promise<number> {
  const out = fs.createWriteStream(file);
  const write = async (b: Buffer | string): Promise<void> => {
    if (!out.write(b)) await once(out, 'drain');
  };
  const head = `${iso(0)} before the flood\n${iso(1_000)} `;
  const tail = `\n${iso(2_000)} after the flood\n${iso(3_000)} still logging\n`;
  await write(head);
  const block = Buffer.alloc(1 << 20, 0x41);
  for (let left = hugeBytes; left > 0; left -= block.length)
    await write(left >= block.length ? block : block.subarray(0, left));
  await write(tail);
  out.end();
  await once(out, 'close');
  return Buffer.byteLength(head) + hugeBytes + Buffer.byteLength(tail);
}

/** Runs `script` (ESM, importing dist/) in a child node; resolves its JSON output and the peak RSS. */
function child(
  script: string,
  args: string[],
): Promise<{ code: number | null; out: string; err: string }> {
  const p = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (c: Buffer) => (out += c.toString()));
  p.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => p.on('close', (code) => resolve({ code, out, err })));
}

const BUILD_SCRIPT = `
import { buildTimeline } from '${DIST}/timeline/build.js';
import { openCaseSource } from '${DIST}/evidence/case-source.js';
const [dir, max] = process.argv.slice(1);
const warnings = [];
const built = await buildTimeline(await openCaseSource(dir), { maxLogLine: max ? Number(max) : undefined, onWarning: (m) => warnings.push(m) });
const logs = [];
let events = 0;
for await (const e of built.events) {
  events++;
  if (e.source === 'logs') logs.push({ message: e.message.length > 200 ? e.message.slice(0, 40) + '…' + e.message.slice(-60) : e.message, length: e.message.length, clippedBytes: e.attrs.clippedBytes ?? null });
}
console.log(JSON.stringify({ events, logs, warnings: warnings.filter((w) => w.includes('stdout')), maxRssKiB: process.resourceUsage().maxRSS }));
`;

describe('a huge log line in a case folder (no engine)', () => {
  let base: string;
  beforeAll(async () => {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (build.status !== 0) throw new Error(`tsc failed: ${build.stdout}${build.stderr}`);
    base = await mkdtemp(path.join(os.tmpdir(), 'cirt-huge-'));
  }, 300_000);
  afterAll(() => rm(base, { recursive: true, force: true }));

  // 600 MB is past V8's longest string (2^29 - 24 chars ≈ 512 MiB): gathering it whole cannot work at all.
  test.each([
    ['80 MB, clip at 64 KiB', 80_000_000, 65_536],
    ['600 MB (> V8 max string), default clip (4 MiB)', 600_000_000, undefined],
  ])(
    '%s: the other events kept, one clipped event, the process stays small',
    async (_name, huge, max) => {
      const dir = path.join(base, `case-${huge}`);
      await mkdir(dir);
      await writeCase(dir, compromisedCase());
      const size = await writeHugeLog(path.join(dir, 'logs', 'stdout.log'), huge);
      const r = await child(BUILD_SCRIPT, [dir, ...(max ? [String(max)] : [])]);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      const res = JSON.parse(r.out) as {
        events: number;
        logs: { message: string; length: number; clippedBytes: number | null }[];
        warnings: string[];
        maxRssKiB: number;
      };
      const stdout = res.logs.filter(
        (l) => !l.message.startsWith('warn') && !l.message.startsWith('fatal'),
      );
      expect(stdout.map((l) => l.message.slice(0, 16))).toEqual([
        'before the flood',
        'AAAAAAAAAAAAAAAA',
        'after the flood',
        'still logging',
      ]);
      const clip = stdout[1];
      const kept = (max ?? 4 * 1024 * 1024) - `${iso(1_000)} `.length;
      expect(clip.clippedBytes).toBe(huge - kept);
      expect(clip.message).toMatch(
        new RegExp(`… \\[clipped: ${(huge - kept).toLocaleString('en-US')} bytes not shown\\]$`),
      );
      expect(
        res.warnings.some((w) =>
          /logs\/stdout\.log:2: line longer than .* bytes clipped in the timeline/.test(w),
        ),
      ).toBe(true);
      // The rest of the case is there too (fs, engine, process… events), not only the logs.
      expect(res.events).toBeGreaterThan(30);
      // Bounded: far below the line's size (measured here: see the report; ~100-130 MiB for node itself + the clip).
      expect(res.maxRssKiB * 1024).toBeLessThan(250 * 1024 * 1024);
      process.stderr.write(
        `huge-log-line ${_name}: child peak RSS ${Math.round(res.maxRssKiB / 1024)} MiB\n`,
      );
      // The evidence file is untouched.
      expect(fs.statSync(path.join(dir, 'logs', 'stdout.log')).size).toBe(size);
    },
  );

  test('cirt timeline (the binary) of the 80 MB case: exit 0, the clipped line and its neighbours in the table', async () => {
    const dir = path.join(base, 'case-80000000');
    const p = spawnSync(
      process.execPath,
      [path.join(DIST, 'cli', 'main.js'), 'timeline', dir, '--source', 'logs', '--grep', 'flood'],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    expect(p.stderr).not.toMatch(/bug in cirt|Invalid string length/);
    expect(p.status).toBe(0);
    expect(p.stdout).toMatch(/before the flood/);
    expect(p.stdout).toMatch(/after the flood/);
    expect(p.stderr).toMatch(/^2 events/m);
  });
});

describe('a container that prints one 50 MB line (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('hugeline');
  let dir: string;
  const HUGE = 50_000_000;

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    dir = await mkdtemp(path.join(os.tmpdir(), 'cirt-hugeline-'));
  });
  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('collect:logs keeps every byte; evidence:timeline clips that line and keeps the others', async () => {
    const name = `${prefix}-flood`;
    const script = `echo before; head -c ${HUGE} /dev/zero | tr '\\0' A; echo; echo after-1; echo after-2; echo done; sleep 600`;
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', script],
      Labels: { 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await waitFor(
      'the flood to be logged',
      async () => ((await c.logs({ stdout: true, tail: 1 })) as Buffer).toString().includes('done'),
      60_000,
    );
    const run = await runSteps(
      dir,
      'flood',
      '  - uses: collect:logs\n  - uses: evidence:timeline\n    with: { maxLineBytes: 65536 }\n',
      name,
      'flood',
    );
    expect(run.exitCode).toBe(0);
    expect((await checkManifest(run.caseDir)).mismatches).toEqual([]);

    // The engine splits a long line into 16 KiB log entries, each prefixed with its time: without those
    // prefixes the artifact is byte for byte what the container wrote.
    const log = await readFile(path.join(run.caseDir, 'logs', 'stdout.log'));
    const written = Buffer.from(`before\n${'A'.repeat(HUGE)}\nafter-1\nafter-2\ndone\n`);
    const stripped = Buffer.from(
      log.toString('latin1').replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /g, ''),
      'latin1',
    );
    expect(stripped.length).toBe(written.length);
    expect(createHash('sha256').update(stripped).digest('hex')).toBe(
      createHash('sha256').update(written).digest('hex'),
    );

    const events = (await readFile(path.join(run.caseDir, 'timeline', 'timeline.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { source: string; message: string; attrs: { clippedBytes?: number } },
      )
      .filter((e) => e.source === 'logs');
    expect(events.map((e) => e.message.slice(0, 7))).toEqual([
      'before',
      'AAAAAAA',
      'after-1',
      'after-2',
      'done',
    ]);
    const clipped = events[1];
    expect(clipped.message).toMatch(/… \[clipped: [\d,]+ bytes not shown\]$/);
    expect(clipped.attrs.clippedBytes).toBeGreaterThan(HUGE - 65_536);
    expect(clipped.message.length).toBeLessThan(65_536 + 100);
  });
});
