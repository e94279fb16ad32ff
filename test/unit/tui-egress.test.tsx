import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { containerRow, FakeServices, renderApp, until } from '../helpers/tui.js';

afterEach(() => cleanup());

describe('Containers screen: egress restriction', () => {
  test('Given a container whose egress a case restricted, Then the list marks it [E] and its facts say "egress restricted (case X)"', async () => {
    const svc = new FakeServices();
    const { lastFrame } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('web'), containerRow('victim', { egressBy: ['case-9'] })]);
    const f = await until(lastFrame, (x) => x.includes('2 containers'));
    expect(f).toMatch(/›.victim \[E\]/);
    expect(f).toContain('EGRESS    restricted (case case-9)');
    expect(f).not.toContain('contained no');
  });
});
