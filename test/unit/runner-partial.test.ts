import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { evidenceSeal } from '../../src/actions/evidence-seal.js';
import { ActionRegistry } from '../../src/runner/registry.js';
import { jsonReporter } from '../../src/cli/reporters/json.js';
import { plainReporter } from '../../src/cli/reporters/plain.js';
import type { ContainerRuntime, Target } from '../../src/runtime/types.js';
import { defineAction } from '../../src/runner/action.js';
import { EventBus, type RunEvent, type StepStatus } from '../../src/runner/events.js';
import { RUN_EXIT, runStatus, type DeclineFacts } from '../../src/runner/outcome.js';
import { runPlaybook } from '../../src/runner/runner.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';

// Pure runner logic with fake actions (no engine); the real evidence:seal writes the report.
const action = (name: string, run: Parameters<typeof defineAction>[0]['run']) =>
  defineAction({
    name,
    description: 'test action',
    example: `- uses: ${name}`,
    params: z.strictObject({}),
    mutates: name.startsWith('contain:'),
    needs: [],
    plan: () => name,
    run,
  });
const registry = new ActionRegistry([
  action('collect:gappy', async (ctx) => {
    await ctx.case.noteGap('content of /a not collected: the engine refused the path');
    await ctx.case.noteGap('content of /b clipped at maxFileBytes');
    return { status: 'ok', summary: 'collected what there was' };
  }),
  action('collect:limited', async (ctx) => {
    await ctx.case.noteLimitation('the engine keeps only its last 256 events');
    return { status: 'ok', summary: 'events' };
  }),
  action('collect:kind', async (ctx) => {
    await ctx.case.noteLimitation('named volume listed only');
    return { status: 'ok', summary: 'mounts' };
  }),
  action('collect:fine', async () => ({ status: 'ok', summary: 'fine' })),
  action('collect:broken', async () => {
    throw new Error('boom');
  }),
  evidenceSeal,
]);

const target: Target = {
  id: 'e'.repeat(64),
  name: 'victim',
  image: 'img',
  imageId: 'sha256:0',
  state: 'running',
  running: true,
  paused: false,
  pid: 1,
};
const runtime = {
  info: {
    kind: 'none',
    ...{ address: 'none', local: true, version: '0', apiVersion: '0', os: 'linux', kernel: '0' },
  },
  capabilities: new Set(),
} as unknown as ContainerRuntime;
const unescapeMd = (md: string): string => md.replace(/\\(.)/g, '$1');

describe('runner: a step that noted gaps ends partial and the run incomplete, never OK', () => {
  let dir: string;
  let store: CaseStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-partial-'));
    const info: CaseInfo = {
      schema: 'cirt.case/1',
      id: 'c1',
      responder: 'r@h',
      host: 'h',
      engine: { ...runtime.info },
      tool: { name: 'cirt', version: '0' },
      target: { id: target.id, name: target.name, image: 'img', imageId: 'sha256:0' },
      startedAt: new Date().toISOString(),
      status: 'open',
      runs: [],
    };
    store = (await CaseStore.openOrCreate(dir, 'c1', () => info)).store;
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(steps: string[]) {
    const text = ['name: t', 'steps:', ...steps.map((s) => `  - ${s}`), ''].join('\n');
    const { playbook, problems } = parsePlaybook(text, registry, 't.yaml');
    if (!playbook) throw new Error(JSON.stringify(problems));
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const plain = new PassThrough();
    const json = new PassThrough();
    bus.on(plainReporter(plain));
    bus.on(jsonReporter(json));
    const summary = await runPlaybook({
      playbook,
      runtime,
      target,
      store,
      dryRun: false,
      yes: true,
      bus,
      signal: new AbortController().signal,
      actor: 'tester',
    });
    const read = (f: string) => fs.readFileSync(path.join(dir, 'c1', f), 'utf8');
    return {
      summary,
      ends: events.flatMap((e) =>
        e.type === 'step:end' ? [{ id: e.stepId, status: e.status, message: e.message }] : [],
      ),
      custody: read('custody.jsonl')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l)),
      caseInfo: JSON.parse(read('case.json')) as CaseInfo,
      plainLines: (plain.read()?.toString().trimEnd().split('\n') ?? []) as string[],
      ndjson: (json.read()?.toString().trimEnd().split('\n') ?? []).map((l: string) =>
        JSON.parse(l),
      ),
      read,
    };
  }

  test('Given a step that returns ok but noted 2 gaps, Then it ends partial, the run incomplete, exit 1, everywhere', async () => {
    const r = await run([
      '{ id: fsdiff, uses: "collect:gappy" }',
      '{ id: other, uses: "collect:fine" }',
    ]);
    expect(r.summary).toMatchObject({
      status: 'incomplete',
      exitCode: 1,
      counts: { partial: 1, ok: 1, failed: 0 },
    });
    expect(r.summary.message).toBe(
      '1 step(s) partial: 2 gap(s) noted in case.json "incomplete" (the report lists them under Incomplete); 1 step(s) done in full',
    );
    // The step: partial, its message says how many gaps and where they are.
    const end = r.ends.find((e) => e.id === 'fsdiff')!;
    expect(end.status).toBe('partial');
    expect(end.message).toBe(
      `collected what there was; PARTIAL: 2 gap(s) noted in ${path.join(dir, 'c1')}/case.json "incomplete"`,
    );
    expect(r.ends.find((e) => e.id === 'other')!.status).toBe('ok');
    // NDJSON.
    expect(
      r.ndjson.find((e: RunEvent) => e.type === 'step:end' && e.stepId === 'fsdiff'),
    ).toMatchObject({ status: 'partial' });
    expect(r.ndjson.at(-1)).toMatchObject({
      type: 'run:end',
      status: 'incomplete',
      exitCode: 1,
      counts: { partial: 1 },
    });
    // Plain: the step line and a last line that says INCOMPLETE and the gap count, never OK.
    expect(r.plainLines).toContainEqual(
      expect.stringMatching(
        /^ {2}◐ fsdiff \(collect:gappy\) partial: collected what there was; PARTIAL: 2 gap\(s\)/,
      ),
    );
    expect(r.plainLines.at(-1)).toMatch(/^INCOMPLETE: 1 step\(s\) partial: 2 gap\(s\) noted/);
    expect(r.plainLines.join('\n')).not.toMatch(/^OK:/m);
    // Custody: the step record and run:end.
    expect(r.custody.find((c) => c.step === 'fsdiff')).toMatchObject({
      result: 'partial',
      details: { gaps: 2 },
    });
    expect(r.custody.at(-1)).toMatchObject({
      action: 'run:end',
      result: 'incomplete',
      details: { status: 'incomplete' },
    });
    // case.json: status and the gaps in incomplete[] (existing readers), no limitations.
    expect(r.caseInfo.status).toBe('incomplete');
    expect(r.caseInfo.runs[0].status).toBe('incomplete');
    expect(r.caseInfo.incomplete).toHaveLength(2);
    expect(r.caseInfo.limitations).toBeUndefined();
  });

  test('Given a step that noted only a limitation, Then it stays ok and the run ok, exit 0; the limitation is listed apart', async () => {
    const r = await run([
      '{ id: events, uses: "collect:limited" }',
      '{ id: mounts, uses: "collect:kind" }',
      '{ id: seal, uses: "evidence:seal", always: true }',
    ]);
    expect(r.summary).toMatchObject({ status: 'ok', exitCode: 0, counts: { partial: 0, ok: 3 } });
    expect(r.summary.message).toBe(
      '3 step(s) done with 2 limitation(s) of the evidence noted in case.json "limitations"',
    );
    expect(r.ends.map((e) => e.status)).toEqual(['ok', 'ok', 'ok']);
    expect(r.caseInfo.incomplete).toBeUndefined();
    expect(r.caseInfo.limitations).toEqual([
      { step: 'events', reason: 'the engine keeps only its last 256 events' },
      { step: 'mounts', reason: 'named volume listed only' },
    ]);
    expect(r.plainLines.filter((l) => !l.startsWith('  ')).at(-1)).toMatch(
      /^OK: 3 step\(s\) done with 2 limitation\(s\)/,
    );
    // The report: no banner, nothing Incomplete, a Limitations list.
    const md = unescapeMd(r.read('report.md'));
    expect(md.split('\n')[0]).toMatch(/^# Evidence report/);
    expect(md).toContain('## Incomplete (0)');
    expect(md).toContain('## Limitations (2)');
    expect(md).toContain('- **step events** — the engine keeps only its last 256 events');
    const html = r.read('report.html');
    expect(html).not.toContain('class="banner"');
    expect(html).toContain('<h2>Limitations (2)</h2>');
  });

  test('the report written by the seal starts with INCOMPLETE: N gaps — see below, and lists the gaps', async () => {
    const r = await run([
      '{ id: fsdiff, uses: "collect:gappy" }',
      '{ id: events, uses: "collect:limited" }',
      '{ id: seal, uses: "evidence:seal", always: true }',
    ]);
    expect(r.summary).toMatchObject({ status: 'incomplete', exitCode: 1 });
    const md = unescapeMd(r.read('report.md')).split('\n');
    expect(md[0]).toMatch(
      /^> \*\*INCOMPLETE: 2 gaps — see below; ended partial: step "fsdiff" \(collect:gappy\) \(custody #\d+\)\*\*$/,
    );
    const text = md.join('\n');
    expect(text).toContain(
      '- **step fsdiff** — content of /a not collected: the engine refused the path',
    );
    expect(text).toMatch(
      /## Limitations \(1\)[\s\S]*step events\*\* — the engine keeps only its last 256 events/,
    );
    const html = r.read('report.html');
    expect(
      html.indexOf('<p class="banner" role="alert">INCOMPLETE: 2 gaps — see below'),
    ).toBeGreaterThan(-1);
    expect(html.indexOf('class="banner"')).toBeLessThan(html.indexOf('<h1>'));
  });

  test('a failed step outranks a partial one: the run is failed, not incomplete', async () => {
    const r = await run([
      '{ id: fsdiff, uses: "collect:gappy" }',
      '{ id: bad, uses: "collect:broken", continue-on-error: true }',
    ]);
    expect(r.summary).toMatchObject({
      status: 'failed',
      exitCode: 1,
      counts: { partial: 1, failed: 1 },
    });
    expect(r.summary.message).toMatch(/1 step\(s\) failed; 1 step\(s\) partial: 2 gap\(s\)/);
  });
});

describe('run status precedence: aborted > blocked > not-contained > failed > declined > incomplete > ok', () => {
  const counts = (c: Partial<Record<StepStatus, number>>): Record<StepStatus, number> => ({
    ok: 0,
    noop: 0,
    partial: 0,
    failed: 0,
    skipped: 0,
    declined: 0,
    planned: 0,
    'not-applicable': 0,
    ...c,
  });
  const none: DeclineFacts = { declined: [], notRun: [] };
  const declinedCollect: DeclineFacts = {
    declined: [{ id: 'x', uses: 'collect:x', answer: 'skip' }],
    notRun: [],
  };
  const declinedContain: DeclineFacts = {
    declined: [{ id: 'i', uses: 'contain:network-isolate', answer: 'skip' }],
    notRun: [],
  };
  const p = counts({ partial: 1, ok: 1 });

  test.each([
    [
      'aborted',
      {
        aborted: true,
        blocked: true,
        counts: counts({ partial: 1, failed: 1 }),
        facts: declinedContain,
      },
      130,
    ],
    ['blocked', { aborted: false, blocked: true, counts: p, facts: declinedContain }, 2],
    [
      'not-contained',
      {
        aborted: false,
        blocked: false,
        counts: counts({ partial: 1, failed: 1 }),
        facts: declinedContain,
      },
      1,
    ],
    [
      'failed',
      {
        aborted: false,
        blocked: false,
        counts: counts({ partial: 1, failed: 1 }),
        facts: declinedCollect,
      },
      1,
    ],
    ['declined', { aborted: false, blocked: false, counts: p, facts: declinedCollect }, 1],
    ['incomplete', { aborted: false, blocked: false, counts: p, facts: none }, 1],
    ['ok', { aborted: false, blocked: false, counts: counts({ ok: 2, noop: 1 }), facts: none }, 0],
  ] as const)('%s', (want, o, exit) => {
    const s = runStatus(o);
    expect(s).toBe(want);
    expect(RUN_EXIT[s]).toBe(exit);
  });
});
