import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import type { PlannedStep } from '../../src/runner/events.js';
import { containerRow, FakeServices, KEY, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const STEPS: PlannedStep[] = [
  {
    id: 'pause',
    uses: 'contain:pause',
    description: '',
    mutates: true,
    confirm: false,
    plan: 'freeze all processes of victim (cgroup freezer)',
  },
  {
    id: 'isolate',
    uses: 'contain:network-isolate',
    description: '',
    mutates: true,
    confirm: true,
    plan: 'disconnect victim from lab-net and attach it to cirt-quarantine',
  },
  {
    id: 'logs',
    uses: 'collect:logs',
    description: '',
    mutates: false,
    confirm: false,
    plan: 'copy the logs of victim',
  },
];

async function openPicker() {
  const svc = new FakeServices();
  svc.playbooks = [
    {
      name: 'contain-and-collect',
      file: '/pkg/playbooks/contain-and-collect.yaml',
      origin: 'shipped',
      description: 'Contain and collect the evidence.',
      steps: STEPS,
    },
    {
      name: 'broken',
      file: '/work/playbooks/broken.yaml',
      origin: 'local',
      description: '',
      steps: [],
      problem: 'broken.yaml:3:5: unknown action "contain:nope"',
    },
  ];
  const app = renderApp(svc);
  await until(app.lastFrame, (f) => f.includes('Connecting'));
  svc.onRows!([containerRow('victim')]);
  await until(app.lastFrame, (f) => f.includes('1 container\n'));
  app.stdin.write(KEY.enter);
  await until(app.lastFrame, (f) => f.includes('Playbooks for victim'));
  return { svc, ...app };
}

describe('Playbook picker', () => {
  test('Given playbooks, Then the selected one’s plan says which steps change the container and which ask first', async () => {
    const { lastFrame } = await openPicker();
    const f = await until(lastFrame, (x) => x.includes('Plan on victim'));
    expect(f).toContain('contain-and-collect');
    expect(f).toContain('Contain and collect the evidence.');
    expect(f).toMatch(/pause.*contain:pause.*changes the container/);
    expect(f).toMatch(/isolate.*changes the container.*asks y\/N/);
    expect(f).toMatch(/logs.*collect:logs.*read-only/);
    expect(f).toContain('disconnect victim from lab-net and attach it to cirt-quarantine');
  });

  test('Given a long playbook at 80×24, Then the one-line plan keeps its ✎/? legend on screen and the flags in one column', async () => {
    const svc = new FakeServices();
    const long: PlannedStep[] = Array.from({ length: 13 }, (_, i) => ({
      id:
        ['pause', 'net-before', 'isolate', 'no-restart', 'logs'][i % 5] + (i >= 5 ? String(i) : ''),
      uses: 'x:y',
      description: '',
      mutates: i % 5 === 0 || i % 5 === 2,
      confirm: i % 5 === 2,
      plan: `step ${i} does something to cirt-lab-incident-7954-victim with a long plan text that needs clipping`,
    }));
    svc.playbooks = [
      {
        name: 'contain-and-collect',
        file: '/pkg/playbooks/contain-and-collect.yaml',
        origin: 'shipped',
        description: 'Contain.',
        steps: long,
      },
    ];
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('cirt-lab-incident-7954-victim')]);
    await until(lastFrame, (f) => f.includes('1 container\n'));
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('Plan on cirt-lab-incident-7954-victim'));
    expect(f).toMatch(/^Plan on \S+ · ✎ changes it · \? asks first/m);
    const steps = f.split('\n').filter((l) => /^ ?\d+\. /.test(l));
    expect(steps.length).toBeGreaterThan(5);
    // Every step's flag sits in the same column, whatever the length of its id.
    const flagColumn = new Set(steps.map((l) => l.search(/ [✎·][? ] /)));
    expect(flagColumn.size).toBe(1);
    expect(steps.find((l) => l.includes('isolate ')) ?? '').toMatch(/✎\? step 2/);
    expect(steps.find((l) => l.includes('net-before')) ?? '').toMatch(/· {2}step 1/);
  });

  test('A playbook with problems is listed with them and cannot be started', async () => {
    const { lastFrame, stdin, svc } = await openPicker();
    stdin.write('j');
    const f = await until(lastFrame, (x) => x.includes('unknown action'));
    expect(f).toContain('has problems');
    stdin.write(KEY.enter);
    await until(lastFrame, (x) => x.includes('has problems; fix it'));
    expect(svc.runs).toHaveLength(0);
  });

  test('When Enter is pressed, Then it asks y/N first; anything but y starts nothing', async () => {
    const { lastFrame, stdin, svc } = await openPicker();
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('[y/N]'));
    expect(f).toContain(
      'Run contain-and-collect on victim? [y/N] 2 step(s) change it, 1 ask first',
    );
    stdin.write(KEY.enter); // the default is no
    await until(lastFrame, (x) => !x.includes('[y/N]'));
    stdin.write(KEY.enter);
    await until(lastFrame, (x) => x.includes('[y/N]'));
    stdin.write('n');
    await until(lastFrame, (x) => !x.includes('[y/N]'));
    await tick(30);
    expect(svc.runs).toHaveLength(0);
  });

  test('When y is pressed, Then the run starts for that playbook file and container, on the Run screen', async () => {
    const { lastFrame, stdin, svc } = await openPicker();
    stdin.write(KEY.enter);
    await until(lastFrame, (x) => x.includes('[y/N]'));
    stdin.write('y');
    await until(lastFrame, (x) => x.includes('Starting contain-and-collect on victim'));
    expect(svc.runs).toHaveLength(1);
    expect(svc.runs[0].playbookFile).toBe('/pkg/playbooks/contain-and-collect.yaml');
    expect(svc.runs[0].targetId).toBe(containerRow('victim').id);
  });

  test('q goes back to the containers; ? shows the picker’s keys', async () => {
    const { lastFrame, stdin } = await openPicker();
    stdin.write('?');
    await until(lastFrame, (x) => x.includes('Keys · Playbooks'));
    stdin.write('?');
    await until(lastFrame, (x) => !x.includes('Keys · Playbooks'));
    stdin.write('q');
    await until(lastFrame, (x) => x.includes('1 container\n') && !x.includes('Playbooks'));
  });
});

describe('Playbook picker, hostile text', () => {
  test('Given a step whose uses: carries terminal escapes, Then the plan shows them escaped, never raw', async () => {
    const svc = new FakeServices();
    const hostile = 'contain:\u001b]0;pwned\u0007\u001b[2J\u009b31m';
    svc.playbooks = [
      {
        name: 'odd',
        file: '/work/playbooks/odd.yaml',
        origin: 'local',
        description: '',
        steps: [{ ...STEPS[0], uses: hostile }],
      },
    ];
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('victim')]);
    await until(lastFrame, (f) => f.includes('1 container\n'));
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('Plan on victim'));
    expect(f).toContain('contain:\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m');
    expect(f).not.toContain('\u001b]0;pwned');
    expect(f).not.toContain('\u009b');
  });
});
