import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { evidenceSeal } from '../../src/actions/evidence-seal.js';
import { ActionRegistry } from '../../src/runner/registry.js';
import type { ContainerRuntime, Target } from '../../src/runtime/types.js';
import { defineAction } from '../../src/runner/action.js';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import type { Approval } from '../../src/runner/outcome.js';
import { runPlaybook } from '../../src/runner/runner.js';
import { jsonReporter } from '../../src/cli/reporters/json.js';
import { plainReporter } from '../../src/cli/reporters/plain.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { PassThrough } from 'node:stream';

// Pure runner logic: fake actions that record that they ran; the real evidence:seal (it needs no engine).
const ran: string[] = [];
const fake = (name: string, confirmByDefault = false) =>
  defineAction({
    name,
    description: 'test action',
    example: `- uses: ${name}`,
    params: z.strictObject({}),
    mutates: name.startsWith('contain:'),
    needs: [],
    confirmByDefault,
    plan: (_p, t) => `${name} on ${t.name}`,
    async run(ctx) {
      ran.push(ctx.stepId);
      return { status: 'ok', summary: 'done' };
    },
  });
const registry = new ActionRegistry([
  fake('contain:freeze'),
  fake('contain:cut', true),
  fake('collect:things'),
  fake('collect:big', true),
  evidenceSeal,
]);
/** contain-and-collect in small: pause, isolate (asks), more containment, collect, seal (always). */
const PLAYBOOK = [
  'name: t',
  'steps:',
  '  - { id: pause, uses: "contain:freeze" }',
  '  - { id: isolate, uses: "contain:cut" }',
  '  - { id: no-restart, uses: "contain:freeze" }',
  '  - { id: logs, uses: "collect:things" }',
  '  - { id: seal, uses: "evidence:seal", always: true }',
  '',
].join('\n');

/** report.md escapes markup characters (`\(`); the tests read it as text. */
const unescapeMd = (md: string): string => md.replace(/\\(.)/g, '$1');

const target: Target = {
  id: 'f'.repeat(64),
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

describe('runner: a declined step is its own outcome, never a quiet success', () => {
  let dir: string;
  let store: CaseStore;

  beforeEach(async () => {
    ran.length = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-declined-'));
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

  async function run(answers: Record<string, Approval>, text = PLAYBOOK) {
    const { playbook, problems } = parsePlaybook(text, registry, 't.yaml');
    if (!playbook) throw new Error(JSON.stringify(problems));
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const plain = new PassThrough();
    const json = new PassThrough();
    bus.on(plainReporter(plain));
    bus.on(jsonReporter(json));
    const asked: string[] = [];
    const summary = await runPlaybook({
      playbook,
      runtime,
      target,
      store,
      dryRun: false,
      yes: false,
      bus,
      signal: new AbortController().signal,
      actor: 'tester',
      approve: async (s) => (asked.push(s.id), answers[s.id] ?? 'yes'),
    });
    const custody = fs
      .readFileSync(path.join(dir, 'c1', 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const ends = events.flatMap((e) =>
      e.type === 'step:end' ? [[e.stepId, e.status, e.message]] : [],
    );
    const plainLines: string[] = plain.read()?.toString().trimEnd().split('\n') ?? [];
    const ndjson = (json.read()?.toString().trimEnd().split('\n') ?? []).map((l: string) =>
      JSON.parse(l),
    );
    return {
      summary,
      events,
      ends,
      custody,
      asked,
      plainLines,
      ndjson,
      caseInfo: JSON.parse(fs.readFileSync(path.join(dir, 'c1', 'case.json'), 'utf8')) as CaseInfo,
    };
  }

  test('Given the isolate prompt, When the responder answers skip, Then the run ends not-contained, exit 1, and the seal still runs', async () => {
    const r = await run({ isolate: 'skip' });
    expect(r.summary).toMatchObject({ status: 'not-contained', exitCode: 1 });
    expect(r.summary.message).toMatch(
      /^the responder declined step "isolate" \(contain:cut\): containment not applied; 4 step\(s\) done$/,
    );
    // skip goes on: everything but isolate ran, the seal included.
    expect(ran).toEqual(['pause', 'no-restart', 'logs']);
    expect(r.ends.map(([id, st]) => [id, st])).toEqual([
      ['pause', 'ok'],
      ['isolate', 'declined'],
      ['no-restart', 'ok'],
      ['logs', 'ok'],
      ['seal', 'ok'],
    ]);
    expect(r.summary.counts).toMatchObject({ declined: 1, ok: 4, skipped: 0 });
    // Custody: the decline, with its answer, and no "approved" record for it.
    const rec = r.custody.filter((c) => c.step === 'isolate');
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({
      action: 'contain:cut',
      result: 'declined',
      details: { answer: 'skip', containment: true, notRun: [] },
    });
    expect(rec[0].message).toMatch(
      /declined by the responder at the interactive prompt \(skip\): not run; its containment was NOT applied/,
    );
    // case.json was frozen by the seal, yet it carries the decline (written when it happened).
    expect(r.caseInfo.status).toBe('sealed');
    expect(r.caseInfo.runs[0].declined).toEqual([
      expect.objectContaining({
        step: 'isolate',
        uses: 'contain:cut',
        answer: 'skip',
        containment: true,
      }),
    ]);
    // The report, written by the seal during the run, starts with the banner.
    const md = unescapeMd(fs.readFileSync(path.join(dir, 'c1', 'report.md'), 'utf8'));
    expect(md.split('\n')[0]).toMatch(
      /^> \*\*NOT CONTAINED: the responder declined step "isolate" \(contain:cut\) \(custody #\d+\): its containment was not applied\*\*$/,
    );
    const html = fs.readFileSync(path.join(dir, 'c1', 'report.html'), 'utf8');
    expect(html.indexOf('class="banner"')).toBeLessThan(html.indexOf('<h1>'));
    expect(html).toMatch(
      /<p class="banner" role="alert">NOT CONTAINED: the responder declined step &quot;isolate&quot;/,
    );
    // Reporters: the plain last lines never say OK; NDJSON run:end carries the status.
    expect(r.plainLines.find((l: string) => l.includes('isolate (contain:cut) declined'))).toMatch(
      /^ {2}⊘ isolate \(contain:cut\) declined: /,
    );
    const last = r.plainLines.filter((l: string) => !l.startsWith('  '));
    expect(last.at(-1)).toMatch(/^NOT CONTAINED: the responder declined step "isolate"/);
    expect(r.plainLines.join('\n')).not.toMatch(/^OK:/m);
    expect(r.ndjson.at(-1)).toMatchObject({
      type: 'run:end',
      status: 'not-contained',
      exitCode: 1,
    });
    expect(
      r.ndjson.find((e: RunEvent) => e.type === 'step:end' && e.stepId === 'isolate'),
    ).toMatchObject({ status: 'declined' });
  });

  test('abort at the isolate prompt stops the run: later steps skipped, the always-step seal runs, not-contained, exit 1', async () => {
    const r = await run({ isolate: 'abort' });
    expect(r.summary).toMatchObject({ status: 'not-contained', exitCode: 1 });
    expect(ran).toEqual(['pause']);
    expect(r.ends.map(([id, st]) => [id, st])).toEqual([
      ['pause', 'ok'],
      ['isolate', 'declined'],
      ['no-restart', 'skipped'],
      ['logs', 'skipped'],
      ['seal', 'ok'],
    ]);
    expect(r.ends[2][2]).toBe('not run: the responder stopped the run at step "isolate"');
    expect(r.summary.message).toContain(
      'the responder stopped the run at step "isolate", 2 step(s) not run (containment among them: step "no-restart" (contain:freeze))',
    );
    const rec = r.custody.find((c) => c.step === 'isolate');
    expect(rec).toMatchObject({
      result: 'declined',
      details: {
        answer: 'abort',
        notRun: [
          { id: 'no-restart', uses: 'contain:freeze' },
          { id: 'logs', uses: 'collect:things' },
        ],
      },
    });
    const md = unescapeMd(fs.readFileSync(path.join(dir, 'c1', 'report.md'), 'utf8')).split('\n');
    expect(md[0]).toContain('NOT CONTAINED: the responder declined step "isolate"');
    expect(md[0]).toContain('the responder stopped the run there');
    expect(md[2]).toContain('NOT CONTAINED: step "no-restart" (contain:freeze) never ran');
  });

  test('abort at a collection prompt before containment: containment never ran, so the run is not-contained too', async () => {
    const text = [
      'name: t',
      'steps:',
      '  - { id: big, uses: "collect:big" }',
      '  - { id: isolate, uses: "contain:freeze" }',
      '  - { id: seal, uses: "evidence:seal", always: true }',
      '',
    ].join('\n');
    const r = await run({ big: 'abort' }, text);
    expect(r.summary).toMatchObject({ status: 'not-contained', exitCode: 1 });
    expect(ran).toEqual([]);
    expect(r.ends.map(([id, st]) => [id, st])).toEqual([
      ['big', 'declined'],
      ['isolate', 'skipped'],
      ['seal', 'ok'],
    ]);
  });

  test('skip of a collection step: the others run, the run ends declined (exit 1), not OK', async () => {
    const text = [
      'name: t',
      'steps:',
      '  - { id: isolate, uses: "contain:freeze" }',
      '  - { id: big, uses: "collect:big" }',
      '  - { id: logs, uses: "collect:things" }',
      '',
    ].join('\n');
    const r = await run({ big: 'skip' }, text);
    expect(r.summary).toMatchObject({
      status: 'declined',
      exitCode: 1,
      message: 'the responder declined step "big" (collect:big); 2 step(s) done',
    });
    expect(ran).toEqual(['isolate', 'logs']);
    // Not sealed: the case status says what the run was.
    expect(r.caseInfo.status).toBe('declined');
    expect(r.caseInfo.runs[0].status).toBe('declined');
    expect(r.custody.at(-1)).toMatchObject({
      action: 'run:end',
      result: 'declined',
      details: { status: 'declined' },
    });
    expect(r.plainLines.at(-1)).toMatch(/^DECLINED: the responder declined step "big"/);
  });

  test('yes to every prompt is an ordinary OK run', async () => {
    const r = await run({});
    expect(r.asked).toEqual(['isolate']);
    expect(r.summary).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(fs.readFileSync(path.join(dir, 'c1', 'report.md'), 'utf8').split('\n')[0]).toMatch(
      /^# Evidence report/,
    );
    expect(r.custody.find((c) => c.step === 'isolate')).toMatchObject({ result: 'approved' });
  });

  test('a step that warned and noted a gap ends partial: the run is incomplete (exit 1), never OK', async () => {
    const warner = defineAction({
      name: 'collect:warns',
      description: 'd',
      example: '- uses: collect:warns',
      params: z.strictObject({}),
      mutates: false,
      needs: [],
      plan: () => 'p',
      async run(ctx) {
        ctx.warn('part of it is missing');
        await ctx.case.noteGap('part of it is missing');
        return { status: 'ok', summary: 'done' };
      },
    });
    const { playbook } = parsePlaybook(
      'name: t\nsteps:\n  - uses: collect:warns\n',
      new ActionRegistry([warner]),
      't.yaml',
    );
    const bus = new EventBus();
    const summary = await runPlaybook({
      playbook: playbook!,
      runtime,
      target,
      store,
      dryRun: false,
      yes: false,
      bus,
      signal: new AbortController().signal,
      actor: 'tester',
    });
    expect(summary).toMatchObject({
      status: 'incomplete',
      exitCode: 1,
      counts: { partial: 1, ok: 0 },
      message:
        '1 step(s) partial: 1 gap(s) noted in case.json "incomplete" (the report lists them under Incomplete); 0 step(s) done in full with 1 warning(s)',
    });
  });
});
