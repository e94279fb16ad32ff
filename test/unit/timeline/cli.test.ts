import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../src/cli/main.js';
import type { CommandIO } from '../../../src/cli/io.js';
import { compromisedCase, HOSTILE_NAME, writeCase } from '../../fixtures/case-folder.js';
import { csvObjects, timesketchProblems } from '../../helpers/timesketch.js';

/** A terminal `columns` wide; `null`: a pipe (no TTY, no width). */
function io(
  columns: number | null = 80,
  env: NodeJS.ProcessEnv = {},
): CommandIO & { stdout: () => string; stderr: () => string } {
  const out =
    columns === null
      ? new PassThrough()
      : Object.assign(new PassThrough(), { columns, isTTY: true });
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  return {
    out,
    err,
    interactive: false,
    env,
    cwd: process.cwd(),
    stdout: () => Buffer.concat(o).toString(),
    stderr: () => Buffer.concat(e).toString(),
  };
}

let base: string;
let dir: string;
let bundle: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cirt-cli-'));
  dir = join(base, 'case-x');
  await mkdir(dir);
  await writeCase(dir, compromisedCase());
  bundle = join(base, 'case-x.tar.gz');
  execFileSync('tar', ['-C', base, '-czf', bundle, 'case-x']);
});
afterAll(() => rm(base, { recursive: true, force: true }));

async function cirt(args: string[], columns?: number | null, env?: NodeJS.ProcessEnv) {
  const x = io(columns, env);
  const code = await main(args, x);
  return { code, out: x.stdout(), err: x.stderr() };
}

describe('cirt timeline', () => {
  test.each([40, 80, 132])(
    'table fits %d columns and passes no control character',
    async (width) => {
      const r = await cirt(['timeline', dir], width);
      expect(r.code).toBe(0);
      const lines = r.out.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^TIME/);
      expect(lines.length).toBeGreaterThan(40);
      for (const l of lines) expect([...l].length).toBeLessThanOrEqual(width);

      expect(r.out.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
      expect(r.out).toContain('2026-11-28 20:00:01.099444Z');
    },
  );

  test('piped it is never cut; COLUMNS is honoured; --wide never cuts a terminal either', async () => {
    const piped = await cirt(['timeline', dir], null);
    const longest = Math.max(...piped.out.split('\n').map((l) => [...l].length));
    expect(longest).toBeGreaterThan(200);
    expect(piped.out).not.toContain('…');
    expect(piped.out.split('\n')[0]).toMatch(/^TIME +SOURCE +ACTOR +WHAT +MESSAGE$/);
    const cols = await cirt(['timeline', dir], null, { COLUMNS: '90' });
    for (const l of cols.out.trimEnd().split('\n')) expect([...l].length).toBeLessThanOrEqual(90);
    const wide = await cirt(['timeline', dir, '--wide'], 60);
    expect(Math.max(...wide.out.split('\n').map((l) => [...l].length))).toBe(longest);
  });

  test('--from/--to take a time of day (as @07:34 in the TUI): that time on the day the case was collected', async () => {
    const day = join(base, 'case-tod');
    await mkdir(day);
    const spec = compromisedCase();
    spec.files['case.json'] = {
      schema: 'cirt.case/1',
      id: 'case-tod',
      startedAt: '2026-11-28T21:00:00.000Z',
      finishedAt: '2026-11-28T21:00:06.000Z',
    };
    await writeCase(day, spec);
    const args = ['--format', 'jsonl'];
    const tod = await cirt(['timeline', day, '--from', '20:00:01', '--to', '20:00:03', ...args]);
    const full = await cirt([
      'timeline',
      day,
      '--from',
      '2026-11-28T20:00:01Z',
      '--to',
      '2026-11-28T20:00:03Z',
      ...args,
    ]);
    expect(tod.code).toBe(0);
    expect(tod.out.length).toBeGreaterThan(0);
    expect(tod.out).toBe(full.out);
    // In a zone: 21:00 in Paris is 20:00 UTC on that day.
    const paris = await cirt([
      'timeline',
      day,
      '--tz',
      'Europe/Paris',
      '--from',
      '21:00:01',
      '--to',
      '21:00:03',
      ...args,
    ]);
    expect(paris.out).toBe(full.out);
    const bad = await cirt(['timeline', day, '--from', '25:61']);
    expect(bad.code).toBe(2);
  });

  test('--grep, --source, --tz and --from/--to (in the zone) filter', async () => {
    const r = await cirt(
      [
        'timeline',
        dir,
        '--grep',
        'KWORKERD',
        '--source',
        'fs',
        '--tz',
        'Asia/Kolkata',
        '--from',
        '2026-11-29T01:30:01.100',
        '--to',
        '2026-11-29 01:30:01.102',
      ],
      200,
    );
    const rows = r.out.trimEnd().split('\n').slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(
      /^2026-11-29 01:30:01\.100222\+05:30 fs\s+container Content Modificat… added \/tmp\/\.cache\/kworkerd/,
    );
  });

  test('--format csv passes the Timesketch checker; --limit stops', async () => {
    const r = await cirt(['timeline', dir, '--format', 'csv', '--limit', '5']);
    const rows = csvObjects(r.out);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(timesketchProblems(row)).toEqual([]);
  });

  test('--format bodyfile and jsonl from a sealed bundle equal those from the folder', async () => {
    for (const format of ['bodyfile', 'jsonl']) {
      const a = await cirt(['timeline', dir, '--format', format]);
      const b = await cirt(['timeline', bundle, '--format', format]);
      expect(b.code).toBe(0);
      expect(b.out).toBe(a.out);
    }
    expect((await cirt(['timeline', bundle, '--format', 'bodyfile'])).out).toContain(
      '/tmp/evil\\nname\\x7cwith',
    );
  });

  test.each([
    [['--source', 'astrology'], 'Unknown source "astrology"'],
    [['--tz', 'Mars/Olympus'], 'Unknown time zone'],
    [['--from', 'last tuesday'], '--from "last tuesday" is not a time'],
    // Dates that do not exist are refused, not rolled over into the next month or day.
    [['--from', '2026-13-45'], '--from "2026-13-45" is not a date that exists'],
    [['--from', '2026-02-30'], '--from "2026-02-30" is not a date that exists'],
    [['--to', '2026-11-28T25:00:00'], '--to "2026-11-28T25:00:00" is not a date that exists'],
    [['--to', '2026-02-29T10:00:00Z'], 'is not a date that exists'],
    [['--from', '2026-11-29', '--to', '2026-11-28'], '--from 2026-11-29 is after --to 2026-11-28'],
    [['--source', 'fs,astrology'], 'Unknown source "astrology"'],
    [['--format', 'xml'], "argument 'xml' is invalid"],
  ])('%j is a usage error (exit 2)', async (extra, message) => {
    const r = await cirt(['timeline', dir, ...extra]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
    expect(r.out).toBe('');
  });

  test('--to with a date alone reaches the end of that day (in --tz)', async () => {
    const all = await cirt(['timeline', dir, '--format', 'jsonl']);
    const day = await cirt([
      'timeline',
      dir,
      '--format',
      'jsonl',
      '--from',
      '2026-11-28',
      '--to',
      '2026-11-28',
    ]);
    const lines = all.out.trimEnd().split('\n');
    const on28th = lines.filter((l) => JSON.parse(l).datetime.startsWith('2026-11-28'));
    expect(day.code).toBe(0);
    expect(on28th.length).toBeGreaterThan(40);
    expect(day.out.trimEnd().split('\n')).toEqual(on28th);
    // In Kolkata (+05:30) the 28th ends at 18:30 UTC: only the image layers (26th, 27th) come before.
    const kolkata = await cirt([
      'timeline',
      dir,
      '--format',
      'jsonl',
      '--tz',
      'Asia/Kolkata',
      '--to',
      '2026-11-28',
    ]);
    expect(
      kolkata.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).source),
    ).toEqual(['image', 'image']);
  });

  test('--source takes names separated by spaces or commas alike', async () => {
    const a = await cirt(['timeline', dir, '--source', 'fs,exec', '--format', 'jsonl']);
    const b = await cirt(['timeline', dir, '--source', 'fs', 'exec', '--format', 'jsonl']);
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(
      new Set(
        a.out
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l).source),
      ),
    ).toEqual(new Set(['fs', 'exec']));
  });
});

describe('evidence:timeline and evidence:findings as steps, then the commands', () => {
  test('artifacts are written hashed through the case store; the commands read them back', async () => {
    const { CaseStore } = await import('../../../src/evidence/case-store.js');
    const { makeContext } = await import('../../../src/runner/context.js');
    const { EventBus } = await import('../../../src/runner/events.js');
    const { evidenceTimeline } = await import('../../../src/actions/evidence-timeline.js');
    const { evidenceFindings } = await import('../../../src/actions/evidence-findings.js');
    const root = join(base, 'cases');
    const { store } = await CaseStore.openOrCreate(root, 'steps', () => ({
      schema: 'cirt.case/1',
      id: 'steps',
      responder: 't',
      host: 'h',
      engine: { address: 'none', local: true, version: '0', apiVersion: '0' },
      tool: { name: 'cirt', version: '0' },
      target: { id: 'c0ffee', name: 'victim', image: 'i', imageId: 'i' },
      startedAt: new Date().toISOString(),
      status: 'open',
      runs: [],
    }));
    const spec = compromisedCase();
    delete (spec.files as Record<string, unknown>)['case.json'];
    await writeCase(join(root, 'steps', 'staged'), spec);
    // Stage the artifacts as collectors would have: through the store, so they are in the manifest.
    for (const rel of Object.keys(spec.files)) {
      if (rel === 'custody.jsonl') continue;
      await store.writeArtifact(rel, await readFile(join(root, 'steps', 'staged', rel)), {
        mediaType: 'x',
        source: 'fixture',
        action: 'test',
        step: 'stage',
      });
    }
    await rm(join(root, 'steps', 'staged'), { recursive: true });
    // Both steps read only the case folder: a runtime that can do nothing is enough.
    const runtime = {
      info: {
        kind: 'none',
        address: 'none',
        local: true,
        version: '0',
        apiVersion: '0',
        os: 'linux',
        kernel: '',
      },
      capabilities: new Set(),
    } as unknown as import('../../../src/runtime/types.js').ContainerRuntime;
    const target = {
      id: 'c0ffee',
      name: 'victim',
      image: 'i',
      imageId: 'i',
      state: 'running',
      running: true,
      paused: false,
      pid: 1,
    };
    for (const [action, params] of [
      [evidenceTimeline, {}],
      [evidenceFindings, {}],
    ] as const) {
      const { ctx, written } = makeContext({
        runtime,
        target,
        store,
        stepId: action.name,
        action: action.name,
        signal: new AbortController().signal,
        bus: new EventBus(),
      });
      const result = await action.run(ctx, action.params.parse(params));
      expect(result.status).toBe('ok');
      for (const w of written)
        expect(
          createHash('sha256')
            .update(await readFile(join(store.root, w.path)))
            .digest('hex'),
        ).toBe(w.sha256);
    }
    expect(store.artifacts.map((a) => a.path)).toEqual(
      expect.arrayContaining([
        'timeline/timeline.jsonl',
        'timeline/timeline.csv',
        'timeline/bodyfile',
        'findings.json',
      ]),
    );
    const findings = JSON.parse(await readFile(join(store.root, 'findings.json'), 'utf8'));
    expect(findings.rulesVersion).toBe('2026.11-1');
    expect(
      findings.findings.find((f: { rule: string }) => f.rule === 'executable-in-temp').events
        .length,
    ).toBeGreaterThan(0);

    const t = await cirt(['timeline', store.root, '--grep', 'evil', '--format', 'jsonl']);
    expect(
      t.out
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).attrs.path),
    ).toContain(HOSTILE_NAME);
    expect(t.err).toBe('');
    const f = await cirt(['findings', store.root], 100);
    expect(f.code).toBe(0);
    expect(f.out.split('\n')[0]).toMatch(/^HIGH {5}SSH authorized_keys written \[T1098\.004\]/);
    // Each finding shows what its first events say (time, source, message), within the width, no escapes.
    expect(f.out).toMatch(
      / {9}events \(\d+\):\n {11}2026-11-28 20:00:01\.\d{6}Z fs +added \/tmp\/\.cache\/kworkerd /,
    );
    expect(f.out).not.toContain('#L');
    for (const l of f.out.trimEnd().split('\n')) expect([...l].length).toBeLessThanOrEqual(100);

    expect(f.out.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(f.err).toMatch(/^13 findings \(5 high, 7 medium, 1 low\) — findings\.json/);
    const j = await cirt(['findings', store.root, '--json']);
    expect(JSON.parse(j.out).findings).toHaveLength(13);
  });
});
