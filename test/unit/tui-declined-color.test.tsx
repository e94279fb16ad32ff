import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import chalk from 'chalk';
import { render, cleanup } from 'ink-testing-library';
import { RunScreen } from '../../src/tui/components/RunScreen.js';
import { initialRun, type RunState, type StepView } from '../../src/tui/state/run.js';
import { ThemeContext, themeFor } from '../../src/tui/theme.js';

afterEach(() => cleanup());
// Jest's output is no terminal, so chalk (Ink's colours) would write none: turn basic colours on here.
const level = chalk.level;
beforeAll(() => {
  chalk.level = 1;
});
afterAll(() => {
  chalk.level = level;
});

const step = (over: Partial<StepView>): StepView => ({
  id: 's',
  uses: 'collect:logs',
  mutates: false,
  confirm: false,
  plan: 'p',
  state: 'ok',
  message: 'done',
  durationMs: 1,
  warnings: [],
  artifacts: 0,
  ...over,
});
const declined = step({
  id: 'isolate',
  uses: 'contain:network-isolate',
  mutates: true,
  confirm: true,
  state: 'declined',
  message: 'declined by the responder (skip)',
});
const base: RunState = {
  ...initialRun,
  phase: 'running',
  playbook: 'contain-and-collect',
  target: { id: 'f'.repeat(64), name: 'victim' },
  caseId: 'c',
  caseDir: '/cases/c',
  steps: [step({ id: 'pause', uses: 'contain:pause' }), declined],
};

// SGR red foreground (31), as Ink's chalk writes it, right before the text.
const RED = /\x1b\[31m(?:\x1b\[1m)?/;

function frame(run: RunState): string {
  const r = render(
    <ThemeContext.Provider value={themeFor({})}>
      <RunScreen size={{ columns: 100, rows: 30 }} run={run} />
    </ThemeContext.Provider>,
  );
  return r.lastFrame() ?? '';
}

test('with colour, a declined containment step and the NOT CONTAINED lines are red', () => {
  const live = frame(base);
  expect(live).toMatch(new RegExp(`${RED.source}(?:\\x1b\\[1m)?NOT CONTAINED: victim`));
  expect(live).toMatch(new RegExp(`${RED.source}⊘`));
  const ended = frame({
    ...base,
    phase: 'ended',
    end: {
      status: 'not-contained',
      exitCode: 1,
      message: 'the responder declined step "isolate"',
      counts: {
        ok: 1,
        noop: 0,
        partial: 0,
        failed: 0,
        skipped: 0,
        declined: 1,
        planned: 0,
        'not-applicable': 0,
      },
    },
  });
  expect(ended).toMatch(
    new RegExp(`${RED.source}(?:\\x1b\\[1m)?NOT CONTAINED: the responder declined`),
  );
});

test('a partial step is yellow, never green, and an incomplete run ends on a red INCOMPLETE line', () => {
  const YELLOW = /\x1b\[33m/;
  const GREEN = /\x1b\[32m/;
  const partial = step({
    id: 'fsdiff',
    uses: 'collect:fs-diff',
    state: 'partial',
    message: '3 changes; PARTIAL: 1 gap(s) noted in /cases/c/case.json "incomplete"',
  });
  const run: RunState = { ...base, steps: [partial] };
  const live = frame(run);
  expect(live).toMatch(new RegExp(`${YELLOW.source}◐`));
  expect(live).toMatch(new RegExp(`${YELLOW.source}3 changes; PARTIAL: 1 gap`));
  expect(live).not.toMatch(GREEN);
  const ended = frame({
    ...run,
    phase: 'ended',
    end: {
      status: 'incomplete',
      exitCode: 1,
      message: '1 step(s) partial: 1 gap(s) noted',
      counts: {
        ok: 0,
        noop: 0,
        partial: 1,
        failed: 0,
        skipped: 0,
        declined: 0,
        planned: 0,
        'not-applicable': 0,
      },
    },
  });
  expect(ended).toMatch(
    new RegExp(`${RED.source}(?:\\x1b\\[1m)?INCOMPLETE: 1 step\\(s\\) partial`),
  );
  expect(ended).not.toMatch(GREEN);
});
