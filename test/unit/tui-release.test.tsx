import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import type { CaseData } from '../../src/tui/types.js';
import { FakeServices, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

const data: CaseData = {
  id: 'case-1',
  dir: '/cases/case-1',
  status: 'complete',
  target: 'victim (0123456789ab)',
  artifacts: [],
  findings: [{ id: 'f1', rule: 'r1', title: 'Reverse shell', severity: 'high' }],
  containment: ['network isolation', 'pause'],
  notes: [],
};

describe('Case screen: release', () => {
  test('Given a case holding containment, When r, Then the plan and the open high finding are shown and n changes nothing; r then y releases', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, data);
    svc.plan = {
      changes: true,
      lines: [
        'Release case case-1: container victim (0123456789ab)',
        '  will undo: network isolation, pause',
        '  ! the case has 1 high finding(s) open: the container may still be compromised',
      ],
    };
    const { lastFrame, stdin } = renderApp(svc, {
      startWith: [{ type: 'case:request', dir: data.dir }],
    });
    await until(lastFrame, (f) => f.includes('Containment in force: network isolation, pause'));

    stdin.write('r');
    let f = await until(lastFrame, (x) => x.includes('Release case case-1? [y/N]'));
    expect(f).toContain('will undo: network isolation, pause');
    expect(f).toContain('1 high finding(s) open');
    stdin.write('n');
    await until(lastFrame, (x) => !x.includes('[y/N]'));
    await tick(50);
    expect(svc.releasedDirs).toEqual([]);

    stdin.write('r');
    await until(lastFrame, (x) => x.includes('[y/N]'));
    stdin.write('y');
    f = await until(lastFrame, (x) => x.includes('✔ released: network-isolate ok'));
    expect(svc.releasedDirs).toEqual([data.dir]);
    expect(f).not.toContain('Containment in force');
  });

  test('Given a case holding nothing, When r, Then it says so and names the case that holds it, asking nothing', async () => {
    const svc = new FakeServices();
    svc.cases.set(data.dir, { ...data, containment: [] });
    svc.plan = {
      changes: false,
      lines: [
        'Release case case-1: container victim (0123456789ab)',
        '  this case holds no containment: nothing will change',
        '  case case-0 holds network isolation on this container: `cirt release --case case-0`',
      ],
    };
    const { lastFrame, stdin } = renderApp(svc, {
      startWith: [{ type: 'case:request', dir: data.dir }],
    });
    await until(lastFrame, (f) => f.includes('Case case-1'));
    stdin.write('r');
    const f = await until(lastFrame, (x) => x.includes('nothing will change'));
    expect(f).toContain('case case-0 holds');
    expect(f).not.toContain('[y/N]');
    expect(svc.releasedDirs).toEqual([]);
  });
});
