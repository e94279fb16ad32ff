import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { keyToActions } from '../../src/tui/keymap.js';
import { initialState, tuiReducer } from '../../src/tui/state/reducer.js';
import {
  containerRow,
  FakeServices,
  KEY,
  makeTimelineCase,
  renderApp,
  tick,
  until,
} from '../helpers/tui.js';

afterEach(() => cleanup());

describe('keys that must not surprise', () => {
  test('Given the first screen, When Esc, Then cirt stays (it says q quits); When q, Then it ends', async () => {
    const svc = new FakeServices();
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('web')]);
    await until(lastFrame, (f) => f.includes('1 container'));
    stdin.write(KEY.esc);
    await until(lastFrame, (f) => f.includes('q quits'));
    expect(svc.onRows).toBeDefined();
    stdin.write('q');
    await tick(200);
    expect(svc.onRows).toBeUndefined();
  });

  test('Given a run going on and the first screen, When q, Then it asks before quitting', () => {
    let s = initialState();
    s = tuiReducer(s, {
      type: 'engine',
      event: {
        type: 'run:start',
        time: new Date().toISOString(),
        playbook: { name: 'p', file: 'p.yaml', description: '' },
        target: { id: 'x', name: 'web', image: 'i' },
        caseId: 'c',
        caseDir: '/c',
        dryRun: false,
        steps: [],
      },
    });
    expect(keyToActions(s, 'q', {})).toEqual([{ type: 'prompt:open', prompt: { kind: 'quit' } }]);
    expect(keyToActions(s, '', { escape: true })[0].type).toBe('message');
  });

  test('Given the container filter, When typing j k g G q, Then they are letters of the filter', async () => {
    const svc = new FakeServices();
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('web'), containerRow('jkgGq')]);
    await until(lastFrame, (f) => f.includes('2 containers'));
    stdin.write('/');
    await until(lastFrame, (f) => f.includes('filter:'));
    for (const ch of 'jkgGq') {
      stdin.write(ch);
      await tick();
    }
    const f = await until(lastFrame, (x) => x.includes('filter: jkgGq'));
    expect(f).toContain('1 of 2 containers match "jkgGq"');
    expect(svc.onRows).toBeDefined();
  });

  test('Given the timeline search field, When typing j k g G q, Then they are the search text', async () => {
    const svc = new FakeServices();
    const dir = makeTimelineCase(5);
    const { lastFrame, stdin } = renderApp(svc, { startWith: [{ type: 'timeline:request', dir }] });
    await until(lastFrame, (f) => f.includes('5/5 events') || f.includes('events'));
    stdin.write('/');
    await until(lastFrame, (f) => f.includes('search:'));
    for (const ch of 'jkgGq') {
      stdin.write(ch);
      await tick();
    }
    await until(lastFrame, (x) => x.includes('search: jkgGq'));
  });
});
