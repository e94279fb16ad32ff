import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import type { IncidentEvent } from '../../src/app/incident-events.js';
import type { PlannedStep } from '../../src/runner/events.js';
import type { IncidentRequest } from '../../src/tui/services.js';
import { containerRow, FakeServices, KEY, renderApp, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const STEPS: PlannedStep[] = [
  {
    id: 'pause',
    uses: 'contain:pause',
    description: '',
    mutates: true,
    confirm: false,
    plan: 'freeze',
  },
  {
    id: 'isolate',
    uses: 'contain:network-isolate',
    description: '',
    mutates: true,
    confirm: true,
    plan: 'cut',
  },
  {
    id: 'seal',
    uses: 'evidence:seal',
    description: '',
    mutates: false,
    confirm: false,
    plan: 'seal',
  },
];

/** FakeServices that also take a multi-target run and let the test emit its events. */
class IncidentServices extends FakeServices {
  incidents: IncidentRequest[] = [];
  finish?: (code: number) => void;
  runIncident(req: IncidentRequest): Promise<number> {
    this.incidents.push(req);
    return new Promise((resolve) => (this.finish = resolve));
  }
  send(e: IncidentEvent): void {
    this.incidents[this.incidents.length - 1].onEvent(e);
  }
}

const time = '2024-05-01T12:00:00.000Z';
const info = (name: string) => ({
  key: `default/${containerRow(name).id}`,
  engine: 'default',
  id: containerRow(name).id,
  name,
  image: 'img',
});

describe('TUI: several containers, one playbook', () => {
  test('Space selects containers; Enter, a playbook and one y run it on all; the run screen shows each target and the total', async () => {
    // Given three containers and a playbook
    const svc = new IncidentServices();
    svc.playbooks = [
      {
        name: 'contain',
        file: '/p/contain.yaml',
        origin: 'shipped',
        description: '',
        steps: STEPS,
      },
    ];
    const app = renderApp(svc);
    await until(app.lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!(['web-1', 'web-2', 'db'].map((n) => containerRow(n)));
    await until(app.lastFrame, (f) => f.includes('3 containers'));

    // When the user selects db and web-1 with Space (moving between them) and presses Enter
    app.stdin.write(' ');
    app.stdin.write(KEY.down);
    app.stdin.write(KEY.down);
    app.stdin.write(' ');
    await until(app.lastFrame, (f) => f.includes('2 selected'));
    expect(app.lastFrame()).toMatch(/✓.*db/);
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('the 2 selected containers:'));
    app.stdin.write(KEY.enter);

    // Then the one approval lists the set
    await until(app.lastFrame, (f) => f.includes('on 2 containers? [y/N]'));
    // The set is listed where the plan is shown, and the prompt approves it as one
    expect(app.lastFrame()).toContain('Playbooks for the 2 selected containers: db, web-2');
    expect(app.lastFrame()).toContain('y approves its 1 asking step(s) on all of th');
    app.stdin.write('y');
    await until(
      () => String(svc.incidents.length),
      (n) => n === '1',
    );
    const ids = svc.incidents[0].targetIds;
    expect(ids.sort()).toEqual([containerRow('db').id, containerRow('web-2').id].sort());
  });

  test('the run screen shows each target’s progress and the incident’s total', async () => {
    const svc = new IncidentServices();
    svc.playbooks = [
      {
        name: 'contain',
        file: '/p/contain.yaml',
        origin: 'shipped',
        description: '',
        steps: STEPS,
      },
    ];
    const app = renderApp(svc);
    await until(app.lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!(['a', 'b', 'c'].map((n) => containerRow(n)));
    await until(app.lastFrame, (f) => f.includes('3 containers'));
    for (let i = 0; i < 3; i++) {
      app.stdin.write(' ');
      app.stdin.write(KEY.down);
    }
    await until(app.lastFrame, (f) => f.includes('3 selected'));
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('the 3 selected containers'));
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('[y/N]'));
    app.stdin.write('y');
    await until(app.lastFrame, (f) => f.includes('Starting contain'));

    // When the incident starts and its targets make progress
    const [a, b, c] = ['a', 'b', 'c'].map(info);
    svc.send({
      type: 'incident:start',
      time,
      incidentId: 'inc-1',
      dir: '/cases/inc-1',
      dryRun: false,
      playbook: { name: 'contain', file: 'f' },
      targets: [a, b, c],
      steps: STEPS,
      collectFrom: 2,
    });
    svc.send({
      type: 'target:event',
      time,
      key: a.key,
      event: {
        type: 'step:start',
        time,
        stepId: 'isolate',
        index: 1,
        uses: 'contain:network-isolate',
        mutates: true,
      },
    });
    svc.send({
      type: 'target:end',
      time,
      ...b,
      caseId: 'cb',
      caseDir: '/cases/inc-1/cb',
      status: 'ok',
      exitCode: 0,
      message: '3 step(s) done',
      bundle: null,
    });
    svc.send({
      type: 'target:end',
      time,
      ...c,
      caseId: 'cc',
      caseDir: '/cases/inc-1/cc',
      status: 'failed',
      exitCode: 1,
      message: 'container c is gone',
      bundle: null,
    });
    await until(app.lastFrame, (f) => f.includes('Total: 2/3 done'));
    const f = app.lastFrame()!;
    expect(f).toContain('Incident inc-1 · contain on 3 containers · containing');
    expect(f).toMatch(/▸ a\s+isolate \(0\/3\)/);
    expect(f).toMatch(/✔ b\s+ok — 3 step\(s\) done/);
    expect(f).toMatch(/✖ c\s+failed — container c is gone/);
    expect(f).toMatch(/Total: 2\/3 done \((1 ok, 1 failed|1 failed, 1 ok)\)/);

    // And q does not leave a running incident
    app.stdin.write('q');
    await until(app.lastFrame, (fr) => fr.includes('The incident is running'));

    // When it ends, the total says so
    svc.send({
      type: 'target:end',
      time,
      ...a,
      caseId: 'ca',
      caseDir: '/cases/inc-1/ca',
      status: 'ok',
      exitCode: 0,
      message: 'done',
      bundle: null,
    });
    svc.send({
      type: 'incident:end',
      time,
      incidentId: 'inc-1',
      dir: '/cases/inc-1',
      status: 'failed',
      exitCode: 1,
      counts: { ok: 2, failed: 1 },
      message: '3 containers: 2 ok, 1 failed',
      targets: [],
    });
    svc.finish?.(1);
    await until(app.lastFrame, (fr) => fr.includes('Total: 3/3 done'));
    expect(app.lastFrame()).toContain('3 containers: 2 ok, 1 failed');
  });
});
