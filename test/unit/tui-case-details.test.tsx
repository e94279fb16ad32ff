import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup } from 'ink-testing-library';
import { containerRow, FakeServices, KEY, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

describe('case details from the TUI', () => {
  test('Given the start prompt, When d is pressed and details typed, Then the run gets them', async () => {
    const svc = new FakeServices();
    svc.playbooks = [
      { name: 'contain', file: '/p/c.yaml', origin: 'shipped', description: '', steps: [] },
    ];
    const app = renderApp(svc, { columns: 120 });
    await until(app.lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('victim')]);
    await until(app.lastFrame, (f) => f.includes('1 container\n'));
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('Plan on victim'));
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('d: case details (0 set)'));

    app.stdin.write('d');
    await until(app.lastFrame, (f) => f.includes('title (Enter: next, Esc: done)'));
    app.stdin.write('Web defacement');
    await tick();
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('ticket (Enter'));
    app.stdin.write('INC-1');
    await tick();
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('case number (Enter'));
    app.stdin.write('IR-2026-9');
    await tick();
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('evidence number (Enter'));
    app.stdin.write(KEY.enter);
    await until(app.lastFrame, (f) => f.includes('examiner (Enter'));
    app.stdin.write('Alice');
    await tick();
    app.stdin.write(KEY.esc);
    // Esc leaves the details (the one being typed is dropped) and the prompt is back.
    await until(app.lastFrame, (f) => f.includes('d: case details (3 set)'));
    app.stdin.write('y');
    await until(
      () => String(svc.runs.length),
      (n) => n === '1',
    );
    expect(svc.runs[0].meta).toEqual({
      title: 'Web defacement',
      ticket: 'INC-1',
      caseNumber: 'IR-2026-9',
    });
  });
});
