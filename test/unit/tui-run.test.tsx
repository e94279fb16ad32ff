import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { UserError } from '../../src/errors.js';
import type { PlannedStep, RunEvent } from '../../src/runner/events.js';
import { containerRow, FakeServices, KEY, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const STEPS: PlannedStep[] = [
  {
    id: 'pause',
    uses: 'contain:pause',
    description: '',
    mutates: true,
    confirm: false,
    plan: 'freeze all processes of victim',
  },
  {
    id: 'isolate',
    uses: 'contain:network-isolate',
    description: '',
    mutates: true,
    confirm: true,
    plan: 'disconnect victim from lab-net (172.20.0.3) and attach it to cirt-quarantine',
  },
  {
    id: 'export',
    uses: 'collect:export',
    description: '',
    mutates: false,
    confirm: false,
    plan: 'export the filesystem of victim',
  },
];
const now = (ms = 0): string => new Date(Date.parse('2024-05-01T12:00:00Z') + ms).toISOString();
const start: RunEvent = {
  type: 'run:start',
  time: now(),
  playbook: { name: 'contain-and-collect', file: 'f', description: '' },
  target: { id: containerRow('victim').id, name: 'victim', image: 'img' },
  caseId: 'case-9',
  caseDir: '/cases/case-9',
  dryRun: false,
  steps: STEPS,
};

/** Given the picker for "victim", When the user starts the playbook with y. */
async function startRun() {
  const svc = new FakeServices();
  svc.playbooks = [
    {
      name: 'contain-and-collect',
      file: '/p/cc.yaml',
      origin: 'shipped',
      description: '',
      steps: STEPS,
    },
  ];
  const app = renderApp(svc);
  await until(app.lastFrame, (f) => f.includes('Connecting'));
  svc.onRows!([containerRow('victim')]);
  await until(app.lastFrame, (f) => f.includes('1 container\n'));
  app.stdin.write(KEY.enter);
  await until(app.lastFrame, (f) => f.includes('Plan on victim'));
  app.stdin.write(KEY.enter);
  await until(app.lastFrame, (f) => f.includes('[y/N]'));
  app.stdin.write('y');
  await until(app.lastFrame, (f) => f.includes('Starting'));
  svc.emit(start);
  await until(app.lastFrame, (f) =>
    f.includes('Running contain-and-collect on victim · case case-9'),
  );
  return { svc, ...app };
}

describe('Run screen', () => {
  test('Each step shows its state: waiting, running, done, failed, skipped', async () => {
    const { svc, lastFrame } = await startRun();
    expect(lastFrame()).toMatch(/○ pause .*waiting/);
    expect(lastFrame()).toMatch(/○ isolate .*waiting · will ask first/);
    svc.emit({
      type: 'step:start',
      time: now(1),
      stepId: 'pause',
      index: 0,
      uses: 'contain:pause',
      mutates: true,
    });
    await until(lastFrame, (f) => /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] pause/.test(f));
    svc.emit({
      type: 'step:end',
      time: now(5),
      stepId: 'pause',
      uses: 'contain:pause',
      status: 'ok',
      message: 'paused victim; 5 sockets (1 established, 2 listening)',
      durationMs: 4,
    });
    svc.emit({
      type: 'step:end',
      time: now(6),
      stepId: 'isolate',
      uses: 'contain:network-isolate',
      status: 'failed',
      message: 'engine said no',
      durationMs: 1,
    });
    svc.emit({
      type: 'step:end',
      time: now(7),
      stepId: 'export',
      uses: 'collect:export',
      status: 'skipped',
      message: 'an earlier step failed',
      durationMs: 0,
    });
    const f = await until(lastFrame, (x) => x.includes('an earlier step failed'));
    // At 80 columns the outcome gets the room (the action name is left to wider terminals).
    expect(f).toMatch(/✔ pause +paused victim; 5 sockets \(1 established, 2 listening\) 4 ms/);
    expect(f).toMatch(/✖ isolate .*engine said no/);
    expect(f).toMatch(/- export .*an earlier step failed/);
  });

  test('A collection step shows a byte progress bar with rate and ETA, and warnings inline', async () => {
    const { svc, lastFrame } = await startRun();
    svc.emit({
      type: 'step:start',
      time: now(0),
      stepId: 'export',
      index: 2,
      uses: 'collect:export',
      mutates: false,
    });
    svc.emit({
      type: 'step:progress',
      time: now(2000),
      stepId: 'export',
      bytes: 4 * 1024 * 1024,
      totalBytes: 16 * 1024 * 1024,
    });
    svc.emit({
      type: 'step:warning',
      time: now(2001),
      stepId: 'export',
      message: 'socket \x1b[2Jvanished',
    });
    const f = await until(lastFrame, (x) => x.includes('ETA'));
    expect(f).toContain('4.0 MiB / 16.0 MiB');
    expect(f).toContain('2.0 MiB/s');
    expect(f).toContain('ETA 6s');
    expect(f).toMatch(/█+░+/);
    expect(f).toContain('! socket \\x1b[2Jvanished');
    expect(f).not.toContain('\x1b[2J');
  });

  test('A confirm step stops and shows exactly what will change; y approves it', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    const answer = svc.ask(STEPS[1]);
    const f = await until(lastFrame, (x) => x.includes('Approve step'));
    expect(f).toContain('Approve step "isolate" (contain:network-isolate) on victim? This will:');
    expect(f).toContain(
      'disconnect victim from lab-net (172.20.0.3) and attach it to cirt-quarantine',
    );
    expect(f).toContain('y run · s skip (stays NOT CONTAINED) · a / Enter stop the run (default)');
    stdin.write('y');
    await expect(answer).resolves.toBe('yes');
    await until(lastFrame, (x) => !x.includes('Approve step'));
  });

  test('A long plan in a long playbook at 80×24: the question, the whole plan and the keys all stay on screen', async () => {
    const many: PlannedStep[] = Array.from({ length: 13 }, (_, i) => ({
      ...STEPS[2],
      id: `step-${i}`,
    }));
    const plan = `record the networks of victim, disconnect it from every one (its published ports and open connections go dead) and attach it to the internal network cirt-quarantine (created if missing); undo with cirt release --case case-9`;
    many[3] = { ...STEPS[1], plan };
    const { svc, lastFrame } = await startRun();
    // A long container name too: the question wraps rather than losing "This will:".
    svc.emit({
      ...start,
      steps: many,
      target: { ...start.target, name: 'cirt-lab-incident-7954-victim' },
    } as RunEvent);
    await until(lastFrame, (x) => x.includes('step-12'));
    void svc.ask(many[3]);
    const f = await until(lastFrame, (x) => x.includes('Approve step "isolate"'));
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    // The plan, unwrapped from the box, word for word.
    const box = lines
      .filter((l) => l.startsWith('│'))
      .map((l) => l.slice(1, -1).trim())
      .join(' ');
    expect(box).toContain(plan);
    expect(box).toContain(
      'Approve step "isolate" (contain:network-isolate) on cirt-lab-incident-7954-victim? This will:',
    );
    expect(f).toContain('y run · s skip (stays NOT CONTAINED) · a / Enter stop the run (default)');
    expect(f).toMatch(/\? isolate .*waiting for your answer/);
  });

  test('The default answer stops the run: Enter and Esc answer abort, s skips, n only asks again', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    const first = svc.ask(STEPS[1]);
    await until(lastFrame, (x) => x.includes('Approve step'));
    stdin.write(KEY.enter);
    await expect(first).resolves.toBe('abort');
    const second = svc.ask({ ...STEPS[1], id: 'isolate-2' });
    await until(lastFrame, (x) => x.includes('Approve step "isolate-2"'));
    stdin.write(KEY.esc);
    await expect(second).resolves.toBe('abort');
    const third = svc.ask({ ...STEPS[2], id: 'export-2', confirm: true });
    const f = await until(lastFrame, (x) => x.includes('Approve step "export-2"'));
    expect(f).toContain('y run · s skip, go on · a / Enter stop the run (default)');
    stdin.write('n');
    await until(lastFrame, (x) =>
      x.includes('Answer y (run it), s (skip it and go on) or a / Enter (stop the run).'),
    );
    expect(lastFrame()).toContain('Approve step "export-2"');
    stdin.write('s');
    await expect(third).resolves.toBe('skip');
  });

  test('Declining the isolate step shows NOT CONTAINED in red at once, and the run ends NOT CONTAINED in red', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    const answer = svc.ask(STEPS[1]);
    await until(lastFrame, (x) => x.includes('Approve step'));
    stdin.write('s');
    await expect(answer).resolves.toBe('skip');
    svc.emit({
      type: 'step:end',
      time: now(6),
      stepId: 'isolate',
      uses: 'contain:network-isolate',
      status: 'declined',
      message:
        'declined by the responder at the interactive prompt (skip): not run; its containment was NOT applied',
      durationMs: 1,
    });
    let f = await until(lastFrame, (x) => x.includes('NOT CONTAINED: victim'));
    expect(f).toMatch(/⊘ isolate +declined by the responder/);
    expect(f).toContain('NOT CONTAINED: victim — declined isolate (contain:network-isolate)');
    svc.emit({
      type: 'run:end',
      time: now(9),
      status: 'not-contained',
      exitCode: 1,
      caseId: 'case-9',
      caseDir: '/cases/case-9',
      counts: {
        ok: 2,
        noop: 0,
        partial: 0,
        failed: 0,
        skipped: 0,
        declined: 1,
        planned: 0,
        'not-applicable': 0,
      },
      message:
        'the responder declined step "isolate" (contain:network-isolate): containment not applied; 2 step(s) done',
      bundle: '/cases/case-9.tar.gz',
    });
    svc.endRun(1);
    f = await until(lastFrame, (x) => x.includes('NOT CONTAINED: the responder declined'));
    expect(f).not.toMatch(/^OK:/m);
  });

  test('Ctrl-C asks whether to abort; n keeps running; y aborts the run’s signal and answers a pending approval abort', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    stdin.write(KEY.ctrlC);
    await until(lastFrame, (x) => x.includes('Abort the running playbook? [y/N]'));
    stdin.write('n');
    await until(lastFrame, (x) => !x.includes('Abort the running'));
    expect(svc.runs[0].signal.aborted).toBe(false);
    const pending = svc.ask(STEPS[1]);
    await until(lastFrame, (x) => x.includes('Approve step'));
    stdin.write(KEY.ctrlC);
    await until(lastFrame, (x) => x.includes('Abort the running playbook?'));
    stdin.write('y');
    await until(lastFrame, (x) => x.includes('Aborting'));
    expect(svc.runs[0].signal.aborted).toBe(true);
    // Answered abort; the runner sees the aborted signal and records an interrupt (exit 130).
    await expect(pending).resolves.toBe('abort');
  });

  test('q is refused while running; after the run ends the outcome and bundle are shown and c opens the case', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    stdin.write('q');
    await until(lastFrame, (x) => x.includes('A run is in progress'));
    svc.cases.set('/cases/case-9', {
      id: 'case-9',
      dir: '/cases/case-9',
      status: 'sealed',
      target: 'victim',
      artifacts: [],
      findings: [],
      notes: [],
    });
    svc.emit({
      type: 'run:end',
      time: now(9),
      status: 'ok',
      exitCode: 0,
      caseId: 'case-9',
      caseDir: '/cases/case-9',
      counts: {
        ok: 3,
        noop: 0,
        partial: 0,
        failed: 0,
        skipped: 0,
        declined: 0,
        planned: 0,
        'not-applicable': 0,
      },
      message: '3 step(s) done',
      bundle: '/cases/case-9.tar.gz',
    });
    svc.endRun(0);
    const f = await until(lastFrame, (x) => x.includes('OK: 3 step(s) done'));
    expect(f).toContain('bundle /cases/case-9.tar.gz');
    stdin.write('c');
    await until(lastFrame, (x) => x.includes('Case case-9'));
  });

  test('An aborted run leaves an unsealed case; s seals what was collected and shows the bundle', async () => {
    const { svc, lastFrame, stdin } = await startRun();
    svc.emit({
      type: 'run:end',
      time: now(9),
      status: 'aborted',
      exitCode: 130,
      caseId: 'case-9',
      caseDir: '/cases/case-9',
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
      message: 'interrupted; what was collected is kept and can be sealed',
    });
    svc.endRun(130);
    const f = await until(lastFrame, (x) => x.includes('ABORTED: interrupted'));
    expect(f).toContain('not sealed (no bundle): s seals what was collected');
    stdin.write('s');
    await until(lastFrame, (x) => x.includes('bundle /cases/case-9.tar.gz'));
    expect(svc.sealedDirs).toEqual(['/cases/case-9']);
    // Sealed once: s does nothing more.
    stdin.write('s');
    await tick(50);
    expect(svc.sealedDirs).toHaveLength(1);
  });

  test('A playbook that cannot start says why and what to do next', async () => {
    const svc = new FakeServices();
    svc.playbooks = [
      { name: 'pb', file: '/p/pb.yaml', origin: 'shipped', description: '', steps: STEPS },
    ];
    svc.run = async () => {
      throw new UserError('No container "victim" on this engine', {
        hint: 'It may have been removed: `cirt ps` lists what is there.',
      });
    };
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('victim')]);
    await until(lastFrame, (f) => f.includes('1 container\n'));
    stdin.write(KEY.enter);
    await until(lastFrame, (f) => f.includes('Plan on victim'));
    stdin.write(KEY.enter);
    await tick();
    stdin.write('y');
    // The message and, after an arrow, what to do next (the hint the CLI prints on its own line).
    const f = await until(lastFrame, (x) => x.includes('could not start: No container "victim"'));
    expect(f.replace(/\s*\n\s*/g, ' ')).toContain(
      '→ It may have been removed: `cirt ps` lists what is there.',
    );
  });
});
