import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { ActionRegistry } from '../../src/runner/registry.js';
import { defineAction } from '../../src/runner/action.js';
import { EventBus, type PlannedStep, type RunEvent } from '../../src/runner/events.js';
import type { Approval } from '../../src/runner/outcome.js';
import { runPlaybook } from '../../src/runner/runner.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { ContainerRuntime, Target } from '../../src/runtime/types.js';
import { runCli } from '../helpers/run-cli.js';

// The runner's approval logic is pure: a fake action that only counts its runs stands in for a real one.
const ran: string[] = [];
const fake = (name: string, confirmByDefault: boolean) =>
  defineAction({
    name,
    description: 'test action',
    example: `- uses: ${name}`,
    params: z.strictObject({}),
    mutates: true,
    confirmByDefault,
    needs: [],
    plan: (_p, t) => `${name} on ${t.name}`,
    async run(ctx) {
      ran.push(ctx.stepId);
      return { status: 'ok', summary: 'done' };
    },
  });
const registry = new ActionRegistry([fake('test:safe', false), fake('test:destroy', true)]);
const PLAYBOOK =
  'name: t\nsteps:\n  - id: first\n    uses: test:safe\n  - id: boom\n    uses: test:destroy\n  - id: after\n    uses: test:safe\n';

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
    address: 'none',
    local: true,
    version: '0',
    apiVersion: '0',
    os: 'linux',
    kernel: '0',
  },
  capabilities: new Set(),
} as unknown as ContainerRuntime;

describe('runner: steps that need approval', () => {
  let dir: string;
  let store: CaseStore;

  beforeEach(async () => {
    ran.length = 0;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-confirm-'));
    const info: CaseInfo = {
      schema: 'cirt.case/1',
      id: 'c1',
      responder: 'r@h',
      host: 'h',
      engine: { address: 'none', local: true, version: '0', apiVersion: '0' },
      tool: { name: 'cirt', version: '0' },
      target: { id: target.id, name: target.name, image: 'img', imageId: 'sha256:0' },
      startedAt: new Date().toISOString(),
      status: 'open',
      runs: [],
    };
    store = (await CaseStore.openOrCreate(dir, 'c1', () => info)).store;
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function run(opts: {
    yes?: boolean;
    approve?: (s: PlannedStep) => Promise<Approval>;
    text?: string;
    signal?: AbortSignal;
  }) {
    const { playbook, problems } = parsePlaybook(opts.text ?? PLAYBOOK, registry, 't.yaml');
    if (!playbook) throw new Error(JSON.stringify(problems));
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybook({
      playbook,
      runtime,
      target,
      store,
      dryRun: false,
      yes: Boolean(opts.yes),
      approve: opts.approve,
      bus,
      signal: opts.signal ?? new AbortController().signal,
      actor: 'tester',
    });
    await store.custody.flush();
    const custody = fs
      .readFileSync(path.join(dir, 'c1', 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    return { summary, events, custody };
  }

  test('without --yes and without a terminal the run stops before the step: exit 2, "needs approval"', async () => {
    const { summary, events, custody } = await run({});
    expect(summary).toMatchObject({ status: 'blocked', exitCode: 2 });
    expect(summary.message).toMatch(
      /step "boom" \(test:destroy\) needs approval: re-run with --yes/,
    );
    expect(ran).toEqual(['first']);
    const ends = events.filter((e) => e.type === 'step:end').map((e) => [e.stepId, e.status]);
    expect(ends).toEqual([
      ['first', 'ok'],
      ['boom', 'skipped'],
      ['after', 'skipped'],
    ]);
    expect(custody.find((c) => c.step === 'boom')).toMatchObject({
      action: 'test:destroy',
      result: 'refused',
    });
  });

  test('Ctrl-C while the prompt waits is an interrupt, not a refusal: exit 130, custody says interrupted, nothing after runs', async () => {
    const controller = new AbortController();
    const { summary, events, custody } = await run({
      signal: controller.signal,
      approve: async () => {
        controller.abort(new Error('SIGINT'));
        return 'abort' as const;
      },
    });
    expect(summary).toMatchObject({ status: 'aborted', exitCode: 130 });
    expect(ran).toEqual(['first']);
    expect(events.filter((e) => e.type === 'step:end').map((e) => [e.stepId, e.status])).toEqual([
      ['first', 'ok'],
      ['boom', 'skipped'],
      ['after', 'skipped'],
    ]);
    expect(custody.find((c) => c.step === 'boom')).toMatchObject({
      action: 'test:destroy',
      result: 'interrupted',
      message: 'interrupted while waiting for approval',
    });
    expect(custody.at(-1)).toMatchObject({ action: 'run:end', result: 'interrupted' });
  });

  test('--yes approves it and the approval is in custody', async () => {
    const { summary, custody } = await run({ yes: true });
    expect(summary).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(ran).toEqual(['first', 'boom', 'after']);
    expect(custody.find((c) => c.step === 'boom' && c.result === 'approved')).toMatchObject({
      message: 'by --yes',
    });
  });

  test('on a terminal the responder is asked, with the plan; "skip" declines only that step and the run does not end OK', async () => {
    const asked: PlannedStep[] = [];
    const { summary, custody, events } = await run({
      approve: async (s) => (asked.push(s), 'skip' as const),
    });
    expect(asked.map((s) => [s.id, s.plan])).toEqual([['boom', 'test:destroy on victim']]);
    expect(ran).toEqual(['first', 'after']);
    expect(summary).toMatchObject({ status: 'declined', exitCode: 1 });
    expect(events.filter((e) => e.type === 'step:end').map((e) => [e.stepId, e.status])).toEqual([
      ['first', 'ok'],
      ['boom', 'declined'],
      ['after', 'ok'],
    ]);
    expect(custody.find((c) => c.step === 'boom')).toMatchObject({
      result: 'declined',
      details: { answer: 'skip', containment: false },
    });
  });

  test('"yes" on the terminal runs it', async () => {
    await run({ approve: async () => 'yes' as const });
    expect(ran).toEqual(['first', 'boom', 'after']);
  });

  test('a playbook can waive approval with confirm: false, or require it for a safe action', async () => {
    const waived = 'name: t\nsteps:\n  - uses: test:destroy\n    confirm: false\n';
    expect((await run({ text: waived })).summary.exitCode).toBe(0);
    expect(ran).toEqual(['destroy']);
    ran.length = 0;
    const required = 'name: t\nsteps:\n  - uses: test:safe\n    confirm: true\n';
    expect((await run({ text: required })).summary.exitCode).toBe(2);
    expect(ran).toEqual([]);
  });
});

describe('cirt run refuses up front when nobody can approve', () => {
  test('Given a playbook with a confirm step, no --yes and no terminal, When run, Then exit 2 before any engine call', async () => {
    // Port 1 on loopback: a connection attempt would fail with a different, engine-unreachable error.
    const r = await runCli([
      '--host',
      'tcp://127.0.0.1:1',
      'run',
      'contain-and-collect',
      '-t',
      'whatever',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/1 step\(s\) that need approval \("isolate" contain:network-isolate\)/);
    expect(r.err).toMatch(/nothing was run/);
    expect(r.err).not.toMatch(/Cannot reach the Docker engine/);
  });

  test('With --dry-run no approval is needed: it goes on to the engine (unreachable here)', async () => {
    const r = await runCli([
      '--host',
      'tcp://127.0.0.1:1',
      'run',
      'contain-and-collect',
      '-t',
      'whatever',
      '--dry-run',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Cannot reach the Docker engine at tcp:\/\/127\.0\.0\.1:1/);
  });
});
