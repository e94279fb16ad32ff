import { describe, expect, test } from '@jest/globals';
import type { PlannedStep, RunEvent } from '../../src/runner/events.js';
import { keyToActions, splitKeys, type KeyInfo } from '../../src/tui/keymap.js';
import type { TuiAction } from '../../src/tui/state/actions.js';
import { selectedContainer, visibleContainers } from '../../src/tui/state/lists.js';
import { initialState, screenOf, tuiReducer, type TuiState } from '../../src/tui/state/reducer.js';
import type { ContainerRow, PlaybookEntry } from '../../src/tui/types.js';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();
const step = (id: string, over: Partial<PlannedStep> = {}): PlannedStep => ({
  id,
  uses: `test:${id}`,
  description: '',
  mutates: false,
  confirm: false,
  plan: `do ${id}`,
  ...over,
});
const STEPS = [
  step('pause', { mutates: true }),
  step('isolate', { mutates: true, confirm: true }),
  step('logs'),
];
const start: RunEvent = {
  type: 'run:start',
  time: at(0),
  playbook: { name: 'pb', file: 'pb.yaml', description: '' },
  target: { id: 'c'.repeat(64), name: 'victim', image: 'img' },
  caseId: 'case-1',
  caseDir: '/cases/case-1',
  dryRun: false,
  steps: STEPS,
};
const ev = (e: RunEvent): TuiAction => ({ type: 'engine', event: e });
const row = (name: string, over: Partial<ContainerRow> = {}): ContainerRow => ({
  id: `${name}-id`.padEnd(64, '0'),
  name,
  image: 'img',
  state: 'running',
  status: 'Up 1 minute',
  created: 0,
  networks: [],
  ports: [],
  command: 'sh',
  ...over,
});
const entry: PlaybookEntry = {
  name: 'pb',
  file: 'pb.yaml',
  origin: 'shipped',
  description: 'd',
  steps: STEPS,
};

function fold(actions: TuiAction[], from: TuiState = initialState()): TuiState {
  return actions.reduce(tuiReducer, from);
}

describe('tui reducer: the run screen is a fold over engine events', () => {
  const cases: { name: string; actions: TuiAction[]; expect: (s: TuiState) => void }[] = [
    {
      name: 'run:start lists every planned step as waiting',
      actions: [ev(start)],
      expect: (s) => {
        expect(s.run.phase).toBe('running');
        expect(s.run.steps.map((x) => [x.id, x.state])).toEqual([
          ['pause', 'waiting'],
          ['isolate', 'waiting'],
          ['logs', 'waiting'],
        ]);
        expect(s.run.caseDir).toBe('/cases/case-1');
      },
    },
    {
      name: 'step:start marks only that step running',
      actions: [
        ev(start),
        ev({
          type: 'step:start',
          time: at(10),
          stepId: 'pause',
          index: 0,
          uses: 'test:pause',
          mutates: true,
        }),
      ],
      expect: (s) =>
        expect(s.run.steps.map((x) => x.state)).toEqual(['running', 'waiting', 'waiting']),
    },
    {
      name: 'byte progress gives rate and ETA from the events’ own times',
      actions: [
        ev(start),
        ev({
          type: 'step:start',
          time: at(0),
          stepId: 'logs',
          index: 2,
          uses: 'test:logs',
          mutates: false,
        }),
        ev({
          type: 'step:progress',
          time: at(2000),
          stepId: 'logs',
          bytes: 2_000_000,
          totalBytes: 10_000_000,
        }),
      ],
      expect: (s) => {
        const p = s.run.steps[2].progress!;
        expect(p.rate).toBeCloseTo(1_000_000, 0);
        expect(p.eta).toBeCloseTo(8, 5);
        expect(p.totalBytes).toBe(10_000_000);
      },
    },
    {
      name: 'a smaller byte count starts a new artifact: the rate restarts from it',
      actions: [
        ev(start),
        ev({
          type: 'step:start',
          time: at(0),
          stepId: 'logs',
          index: 2,
          uses: 'test:logs',
          mutates: false,
        }),
        ev({
          type: 'step:progress',
          time: at(1000),
          stepId: 'logs',
          bytes: 5_000_000,
          totalBytes: 5_000_000,
        }),
        ev({ type: 'step:progress', time: at(3000), stepId: 'logs', bytes: 100 }),
        ev({ type: 'step:progress', time: at(4000), stepId: 'logs', bytes: 400_100 }),
      ],
      expect: (s) => {
        const p = s.run.steps[2].progress!;
        expect(p.bytes).toBe(400_100);
        expect(p.rate).toBeCloseTo(400_100, 0);
        expect(p.totalBytes).toBeUndefined();
        expect(p.eta).toBeUndefined();
      },
    },
    {
      name: 'warnings accumulate on their step',
      actions: [
        ev(start),
        ev({ type: 'step:warning', time: at(1), stepId: 'pause', message: 'a' }),
        ev({ type: 'step:warning', time: at(2), stepId: 'pause', message: 'b' }),
      ],
      expect: (s) => expect(s.run.steps[0].warnings).toEqual(['a', 'b']),
    },
    {
      name: 'step:confirm stops on the step and keeps the plan text to show',
      actions: [
        ev(start),
        ev({
          type: 'step:confirm',
          time: at(1),
          stepId: 'isolate',
          uses: 'test:isolate',
          plan: 'disconnect victim from lab-net',
        }),
      ],
      expect: (s) => {
        expect(s.run.confirm).toEqual({
          stepId: 'isolate',
          uses: 'test:isolate',
          plan: 'disconnect victim from lab-net',
        });
        expect(s.run.steps[1].state).toBe('confirm');
      },
    },
    {
      name: 'approving clears the question and the step runs',
      actions: [
        ev(start),
        ev({
          type: 'step:confirm',
          time: at(1),
          stepId: 'isolate',
          uses: 'test:isolate',
          plan: 'p',
        }),
        { type: 'run:answer', stepId: 'isolate', answer: 'yes' },
      ],
      expect: (s) => {
        expect(s.run.confirm).toBeUndefined();
        expect(s.run.steps[1].state).toBe('running');
      },
    },
    {
      name: 'an answer for another step is ignored',
      actions: [
        ev(start),
        ev({
          type: 'step:confirm',
          time: at(1),
          stepId: 'isolate',
          uses: 'test:isolate',
          plan: 'p',
        }),
        { type: 'run:answer', stepId: 'pause', answer: 'yes' },
      ],
      expect: (s) => expect(s.run.confirm?.stepId).toBe('isolate'),
    },
    {
      name: 'step:end records status, message and duration',
      actions: [
        ev(start),
        ev({
          type: 'step:end',
          time: at(5),
          stepId: 'pause',
          uses: 'test:pause',
          status: 'failed',
          message: 'boom',
          durationMs: 5,
          error: 'boom',
        }),
      ],
      expect: (s) =>
        expect(s.run.steps[0]).toMatchObject({ state: 'failed', message: 'boom', durationMs: 5 }),
    },
    {
      name: 'run:end keeps the outcome and the bundle path',
      actions: [
        ev(start),
        ev({
          type: 'run:end',
          time: at(9),
          status: 'aborted',
          exitCode: 130,
          caseId: 'case-1',
          caseDir: '/cases/case-1',
          counts: {
            ok: 1,
            noop: 0,
            partial: 0,
            failed: 0,
            skipped: 2,
            declined: 0,
            planned: 0,
            'not-applicable': 0,
          },
          message: 'interrupted',
          bundle: '/cases/case-1.tar.gz',
        }),
      ],
      expect: (s) => {
        expect(s.run.phase).toBe('ended');
        expect(s.run.end).toMatchObject({
          status: 'aborted',
          exitCode: 130,
          bundle: '/cases/case-1.tar.gz',
        });
      },
    },
    {
      name: 'sealing after an interrupted run puts the bundle into the outcome',
      actions: [
        ev(start),
        ev({
          type: 'run:end',
          time: at(9),
          status: 'aborted',
          exitCode: 130,
          caseId: 'case-1',
          caseDir: '/cases/case-1',
          counts: {
            ok: 1,
            noop: 0,
            partial: 0,
            failed: 0,
            skipped: 2,
            declined: 0,
            planned: 0,
            'not-applicable': 0,
          },
          message: 'interrupted',
        }),
        { type: 'run:seal' },
        { type: 'run:sealed', bundle: '/cases/case-1.tar.gz' },
      ],
      expect: (s) => {
        expect(s.run.sealing).toBe(false);
        expect(s.run.end?.bundle).toBe('/cases/case-1.tar.gz');
      },
    },
    {
      name: 'run:request opens the run screen in place of the picker',
      actions: [
        { type: 'playbooks:request', target: row('victim') },
        { type: 'run:request', playbook: entry, target: row('victim') },
      ],
      expect: (s) => {
        expect(s.stack).toEqual(['containers', 'run']);
        expect(s.run.phase).toBe('starting');
        expect(s.run.target.name).toBe('victim');
      },
    },
    {
      name: 'a run that cannot start shows why',
      actions: [
        { type: 'run:request', playbook: entry, target: row('victim') },
        { type: 'run:failed', message: 'engine gone' },
      ],
      expect: (s) => expect(s.run).toMatchObject({ phase: 'error', error: 'engine gone' }),
    },
  ];
  test.each(cases)('$name', ({ actions, expect: check }) => check(fold(actions)));

  test('a run replayed from the same events gives the same state (no clock inside)', () => {
    const actions = cases[3].actions;
    expect(fold(actions).run).toEqual(fold(actions).run);
  });
});

describe('tui reducer: navigation and lists', () => {
  test.each([
    {
      name: 'back on the first screen asks the root to exit 0',
      actions: [{ type: 'nav:back' }] as TuiAction[],
      check: (s: TuiState) => expect(s.exit).toEqual({ code: 0 }),
    },
    {
      name: 'back from a running run is refused with a hint',
      actions: [
        { type: 'run:request', playbook: entry, target: row('v') },
        ev(start),
        { type: 'nav:back' },
      ] as TuiAction[],
      check: (s: TuiState) => {
        expect(screenOf(s)).toBe('run');
        expect(s.message).toMatch(/Ctrl-C/);
      },
    },
    {
      name: 'live updates keep the selected container even when the order changes',
      actions: [
        { type: 'containers:loaded', rows: [row('a'), row('b')] },
        { type: 'containers:move', delta: 1 },
        { type: 'containers:loaded', rows: [row('0'), row('b'), row('a')] },
      ] as TuiAction[],
      check: (s: TuiState) => expect(selectedContainer(s.containers)?.name).toBe('b'),
    },
    {
      name: 'the filter matches names and moves the selection onto a match',
      actions: [
        { type: 'containers:loaded', rows: [row('web'), row('victim'), row('db')] },
        { type: 'containers:filter', text: 'VIC' },
      ] as TuiAction[],
      check: (s: TuiState) => {
        expect(visibleContainers(s.containers).map((r) => r.name)).toEqual(['victim']);
        expect(selectedContainer(s.containers)?.name).toBe('victim');
      },
    },
    {
      name: 'the filter ignores escape sequences in names (they are not what the user sees)',
      actions: [
        { type: 'containers:loaded', rows: [row('ev\x1b[0mil')] },
        { type: 'containers:filter', text: 'evil' },
      ] as TuiAction[],
      check: (s: TuiState) => expect(visibleContainers(s.containers)).toHaveLength(1),
    },
    {
      name: 'moving clamps at both ends',
      actions: [
        { type: 'containers:loaded', rows: [row('a'), row('b')] },
        { type: 'containers:move', delta: 50 },
        { type: 'containers:move', delta: 1 },
      ] as TuiAction[],
      check: (s: TuiState) => expect(selectedContainer(s.containers)?.name).toBe('b'),
    },
  ])('$name', ({ actions, check }) => check(fold(actions)));
});

describe('tui reducer: the timeline window', () => {
  const ready: TuiAction[] = [
    { type: 'timeline:request', dir: '/c' },
    { type: 'timeline:progress', indexed: 1_000_000, done: true, sources: ['fs', 'logs'] },
  ];
  test.each([
    {
      name: 'moving down past the window scrolls it by one',
      actions: [...ready, { type: 'timeline:move', delta: 40 }] as TuiAction[],
      cursor: 40,
      topAbove: true,
    },
    {
      name: 'End goes to the last event of a million',
      actions: [...ready, { type: 'timeline:goto', index: Number.MAX_SAFE_INTEGER }] as TuiAction[],
      cursor: 999_999,
      topAbove: true,
    },
    {
      name: 'moving up from the top stays at 0',
      actions: [...ready, { type: 'timeline:move', delta: -5 }] as TuiAction[],
      cursor: 0,
      topAbove: false,
    },
  ])('$name', ({ actions, cursor, topAbove }) => {
    const s = fold(actions);
    expect(s.timeline.cursor).toBe(cursor);
    expect(s.timeline.cursor).toBeGreaterThanOrEqual(s.timeline.top);
    expect(s.timeline.top > 0).toBe(topAbove);
  });

  test('results of a superseded search are dropped', () => {
    const s = fold([
      ...ready,
      { type: 'timeline:search', query: 'kworkerd', source: null },
      { type: 'timeline:search', query: 'nc', source: null },
      {
        type: 'timeline:view',
        query: 'kworkerd',
        source: null,
        lines: Uint32Array.of(1, 2, 3),
        done: true,
      },
    ]);
    expect(s.timeline.lines).toEqual(new Uint32Array(0));
    expect(s.timeline.searching).toBe(true);
  });

  test('a shrinking terminal keeps the selected event visible', () => {
    const s = fold([
      ...ready,
      { type: 'timeline:goto', index: 500 },
      { type: 'resize', columns: 80, rows: 12 },
    ]);
    expect(s.timeline.cursor).toBe(500);
    expect(s.timeline.top).toBeGreaterThan(490);
  });
});

describe('keymap: keys mean actions, given the state', () => {
  const running = fold([{ type: 'run:request', playbook: entry, target: row('v') }, ev(start)]);
  const asking = fold(
    [ev({ type: 'step:confirm', time: at(1), stepId: 'isolate', uses: 'test:isolate', plan: 'p' })],
    running,
  );
  const k = (over: KeyInfo = {}): KeyInfo => over;
  test.each([
    {
      name: 'Ctrl-C during a run asks to abort',
      s: running,
      input: 'c',
      key: k({ ctrl: true }),
      want: [{ type: 'prompt:open', prompt: { kind: 'abort' } }],
    },
    {
      name: 'Ctrl-C with nothing running asks to quit',
      s: initialState(),
      input: 'c',
      key: k({ ctrl: true }),
      want: [{ type: 'prompt:open', prompt: { kind: 'quit' } }],
    },
    {
      name: 'y on the abort question aborts',
      s: tuiReducer(running, { type: 'prompt:open', prompt: { kind: 'abort' } }),
      input: 'y',
      key: k(),
      want: [{ type: 'run:abort' }],
    },
    {
      name: 'Enter on the abort question means no',
      s: tuiReducer(running, { type: 'prompt:open', prompt: { kind: 'abort' } }),
      input: '',
      key: k({ return: true }),
      want: [{ type: 'prompt:close' }],
    },
    {
      name: 'y runs the step that asks',
      s: asking,
      input: 'y',
      key: k(),
      want: [{ type: 'run:answer', stepId: 'isolate', answer: 'yes' }],
    },
    {
      name: 's skips it and goes on',
      s: asking,
      input: 's',
      key: k(),
      want: [{ type: 'run:answer', stepId: 'isolate', answer: 'skip' }],
    },
    {
      name: 'a stops the run',
      s: asking,
      input: 'a',
      key: k(),
      want: [{ type: 'run:answer', stepId: 'isolate', answer: 'abort' }],
    },
    {
      name: 'Enter stops the run (the safe default, never a quiet go-on)',
      s: asking,
      input: '',
      key: k({ return: true }),
      want: [{ type: 'run:answer', stepId: 'isolate', answer: 'abort' }],
    },
    {
      name: 'Esc stops the run too',
      s: asking,
      input: '',
      key: k({ escape: true }),
      want: [{ type: 'run:answer', stepId: 'isolate', answer: 'abort' }],
    },
    {
      name: 'n is ambiguous (skip or stop?): it asks for the key that says which',
      s: asking,
      input: 'n',
      key: k(),
      want: [
        {
          type: 'message',
          text: 'Answer y (run it), s (skip it and go on) or a / Enter (stop the run).',
        },
      ],
    },
    {
      name: 'q while asked is not "back": it is ignored',
      s: asking,
      input: 'q',
      key: k(),
      want: [],
    },
    {
      name: '? opens the keys anywhere',
      s: running,
      input: '?',
      key: k(),
      want: [{ type: 'help:toggle' }],
    },
  ])('$name', ({ s, input, key, want }) => expect(keyToActions(s, input, key)).toEqual(want));

  test('a chunk of typed keys is split into single presses, Enter included', () => {
    expect(splitKeys('?\r', {})).toEqual([
      ['?', {}],
      ['', { return: true }],
    ]);
    expect(splitKeys('kw', {})).toEqual([
      ['k', {}],
      ['w', {}],
    ]);
    expect(splitKeys('\x1b[A', { upArrow: true })).toEqual([['\x1b[A', { upArrow: true }]]);
  });
});
