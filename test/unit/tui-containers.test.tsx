import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup, render } from 'ink-testing-library';
import { HelpOverlay } from '../../src/tui/components/HelpOverlay.js';
import { HELP } from '../../src/tui/help.js';
import type { Screen } from '../../src/tui/state/actions.js';
import { realServices } from '../../src/tui/adapters/real-services.js';
import { containerRow, FakeServices, KEY, renderApp, tick, until } from '../helpers/tui.js';

afterEach(() => cleanup());

describe('Containers screen', () => {
  test('Given the engine lists containers, the list and the selection’s key facts are shown; a later event updates the list live', async () => {
    const svc = new FakeServices();
    const { lastFrame } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    // Given
    svc.onRows!([containerRow('web'), containerRow('victim', { quarantinedBy: 'case-7' })]);
    const f = await until(lastFrame, (x) => x.includes('2 containers'));
    // Then: the first (by name, running first) is selected, its facts beside the list
    expect(f).toMatch(/›.victim \[Q\]/);
    // A long name is clipped in the middle (its end stays readable), the quarantine mark is not.
    svc.onRows!([containerRow(`victim-${'x'.repeat(60)}-end`, { quarantinedBy: 'case-7' })]);
    await until(lastFrame, (x) => /›.victim\S*…x*-end \[Q\] running/.test(x));
    svc.onRows!([containerRow('web'), containerRow('victim', { quarantinedBy: 'case-7' })]);
    await until(lastFrame, (x) => /›.victim \[Q\]/.test(x));
    expect(f).toContain('QUARANTINE by case case-7');
    expect(f).toContain('lab-net 172.20.0.3');
    // When the engine reports another container
    svc.onRows!([containerRow('web'), containerRow('victim'), containerRow('attacker')]);
    // Then the list follows without a key press, and keeps the selection
    const g = await until(lastFrame, (x) => x.includes('3 containers'));
    expect(g).toContain('attacker');
    expect(g).toMatch(/›.victim/);
  });

  test('When the user types part of a name, Then only matching containers remain; Esc clears the filter', async () => {
    const svc = new FakeServices();
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('web'), containerRow('victim'), containerRow('db')]);
    await until(lastFrame, (f) => f.includes('3 containers'));
    stdin.write('v');
    await tick();
    stdin.write('ic');
    const f = await until(lastFrame, (x) => x.includes('1 of 3 containers match "vic"'));
    expect(f).not.toMatch(/\bweb\b/);
    expect(f).toContain('filter: vic');
    stdin.write(KEY.esc);
    await until(lastFrame, (x) => x.includes('3 containers') && !x.includes('match'));
  });

  test('j/k and arrows move the selection; Enter opens the playbook picker for it', async () => {
    const svc = new FakeServices();
    svc.playbooks = [
      {
        name: 'contain',
        file: '/p/contain.yaml',
        origin: 'shipped',
        description: 'Cut it off',
        steps: [],
      },
    ];
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([containerRow('a-one'), containerRow('b-two'), containerRow('c-three')]);
    await until(lastFrame, (f) => f.includes('3 containers'));
    stdin.write('j');
    await tick();
    stdin.write(KEY.down);
    await until(lastFrame, (f) => /›.c-three/.test(f));
    stdin.write('k');
    await until(lastFrame, (f) => /›.b-two/.test(f));
    stdin.write(KEY.enter);
    const f = await until(lastFrame, (x) => x.includes('Playbooks for b-two'));
    expect(f).toContain('cirt › Containers › Playbooks');
  });

  test('Given names that share a long prefix, at 80 columns each row still shows the end that tells them apart', async () => {
    const svc = new FakeServices();
    const { lastFrame } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([
      containerRow('cirt-lab-incident-7954-attacker'),
      containerRow('cirt-lab-incident-7954-victim'),
      containerRow('cirt-lab-incident-7954-hostile'),
    ]);
    const f = await until(lastFrame, (x) => x.includes('3 containers'));
    const list = f.split('\n').filter((l) => /^[ ›]●/.test(l));
    expect(list).toHaveLength(3);
    for (const end of ['attacker', 'victim', 'hostile'])
      expect(list.some((l) => new RegExp(`^[ ›]●cirt-la\\S*…\\S*${end.slice(-5)} `).test(l))).toBe(
        true,
      );
  });

  test('Given an engine address nobody answers on, the whole error and what to do next are shown at 80×24', async () => {
    // The real engine client against a socket that does not exist: no engine is needed, none is faked.
    const { lastFrame } = renderApp(
      realServices({ host: 'unix:///nonexistent/cirt-test.sock', env: {}, cwd: process.cwd() }),
    );
    const f = await until(lastFrame, (x) => x.includes('Cannot reach the Docker engine'), 10_000);
    const flat = f.replace(/\s*\n\s*/g, ' ');
    expect(flat).toContain('ENOENT /nonexistent/cirt-test.sock');
    expect(flat).toMatch(/check that dockerd is running/i);
    expect(Math.max(...f.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  });

  test('A hostile container name cannot reach the terminal raw: escapes are shown, not obeyed', async () => {
    const svc = new FakeServices();
    const { lastFrame } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!([
      containerRow('x\x1b]0;pwned\x07\x1b[2J', {
        image: 'img\x1b[31m',
        command: 'sh\x1b]8;;http://evil\x07',
      }),
    ]);
    const f = await until(lastFrame, (x) => x.includes('1 container\n'));
    expect(f).not.toContain('\x1b]');
    expect(f).not.toContain('\x07');
    expect(f).toContain('x\\x1b]0;pwned');
  });

  test('? shows the keys of this screen, and ? again hides them; q on the first screen ends the app', async () => {
    const svc = new FakeServices();
    const { lastFrame, stdin } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    stdin.write('?');
    const help = await until(lastFrame, (f) => f.includes('Keys · Containers'));
    expect(help).toContain('filter the list');
    stdin.write('?');
    await until(lastFrame, (f) => !f.includes('Keys · Containers'));
    stdin.write('q');
    await tick(50);
    // The root called exit(): the fake's subscription was stopped on unmount.
    expect(svc.onRows).toBeUndefined();
  });

  test.each(Object.keys(HELP) as Screen[])(
    'the keys of the %s screen fit 80 columns whole (nothing cut off with …)',
    (screen) => {
      const { lastFrame } = render(<HelpOverlay screen={screen} width={80} />);
      const lines = (lastFrame() ?? '').split('\n');
      for (const [, what] of HELP[screen].keys)
        expect(lines.some((l) => l.endsWith(what))).toBe(true);
      expect(lines.join('\n')).not.toContain('…');
    },
  );

  test('The frame never exceeds 80×24 (one row is kept free so Ink does not clear the screen each frame)', async () => {
    const svc = new FakeServices();
    const { lastFrame } = renderApp(svc);
    await until(lastFrame, (f) => f.includes('Connecting'));
    svc.onRows!(
      Array.from({ length: 60 }, (_, i) =>
        containerRow(`c${String(i).padStart(2, '0')}-${'n'.repeat(40)}`),
      ),
    );
    const f = await until(lastFrame, (x) => x.includes('60 containers'));
    const lines = f.split('\n');
    expect(lines.length).toBeLessThanOrEqual(23);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  });
});
