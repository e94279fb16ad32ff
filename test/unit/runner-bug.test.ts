import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { z } from 'zod';
import { ActionRegistry } from '../../src/runner/registry.js';
import { EXIT, FailureError } from '../../src/errors.js';
import { defineAction } from '../../src/runner/action.js';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runPlaybook } from '../../src/runner/runner.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import type { ContainerRuntime, Target } from '../../src/runtime/types.js';

// Pure runner logic: fake actions, one with a programming error, one with an explained failure.
const buggy = defineAction({
  name: 'test:buggy',
  description: 'reads a property of undefined',
  example: '- uses: test:buggy',
  params: z.strictObject({}),
  mutates: false,
  needs: [],
  plan: () => 'crash',
  async run() {
    const missing = undefined as unknown as { State: { Pid: number } };
    return { status: 'ok', summary: String(missing.State.Pid) };
  },
});
const failing = defineAction({
  name: 'test:failing',
  description: 'fails as expected',
  example: '- uses: test:failing',
  params: z.strictObject({}),
  mutates: false,
  needs: [],
  plan: () => 'fail',
  async run() {
    throw new FailureError('the container said no', { hint: 'try again' });
  },
});
const registry = new ActionRegistry([buggy, failing]);

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
    address: 'none',
    local: true,
    version: '0',
    apiVersion: '0',
    os: 'linux',
    kernel: '0',
  },
  capabilities: new Set(),
} as unknown as ContainerRuntime;

describe('runner: a bug in a step is reported as a bug', () => {
  let dir: string;
  let store: CaseStore;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bug-'));
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

  async function run(text: string) {
    const { playbook, problems } = parsePlaybook(text, registry, 't.yaml');
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
      yes: true,
      bus,
      signal: new AbortController().signal,
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

  test('Given a step that throws a TypeError, then the event, the run and custody name it a bug, with its stack', async () => {
    const { summary, events, custody } = await run(
      'name: t\nsteps:\n  - id: crash\n    uses: test:buggy\n',
    );
    const end = events.find((e) => e.type === 'step:end' && e.stepId === 'crash');
    expect(end).toMatchObject({ status: 'failed', bug: true });
    expect(end && 'message' in end && end.message).toMatch(
      /^a bug in cirt: TypeError: .*please report it/,
    );
    expect(summary).toMatchObject({ status: 'failed', exitCode: EXIT.bug });
    expect(summary.message).toMatch(/"crash" hit a bug in cirt/);
    const rec = custody.find((c) => c.step === 'crash');
    expect(rec).toMatchObject({ result: 'failed', details: { bug: true } });
    expect(rec.details.stack).toMatch(/TypeError[\s\S]*runner-bug\.test\.ts/);
  });

  test('Given a step that fails with an explained error, then it is a plain failure with its hint, not a bug', async () => {
    const { summary, events, custody } = await run(
      'name: t\nsteps:\n  - id: no\n    uses: test:failing\n',
    );
    const end = events.find((e) => e.type === 'step:end' && e.stepId === 'no');
    expect(end).toMatchObject({ status: 'failed', message: 'the container said no — try again' });
    expect(end && 'bug' in end).toBe(false);
    expect(summary).toMatchObject({
      status: 'failed',
      exitCode: EXIT.failed,
      message: '1 step(s) failed',
    });
    expect(custody.find((c) => c.step === 'no').details).toBeUndefined();
  });
});
