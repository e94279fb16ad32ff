import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { resolveCaseDir } from '../../src/cli/commands/tui.js';
import { buildProgram } from '../../src/cli/program.js';
import { buildTuiProgram, isTuiInvocation } from '../../src/cli/tui-program.js';
import { launchTui } from '../../src/tui/launch.js';
import { runCli } from '../helpers/run-cli.js';
import { FakeServices, until } from '../helpers/tui.js';

/** A terminal that records everything written to it and takes key presses. */
class FakeTerminal {
  readonly written: string[] = [];
  readonly stdout = Object.assign(new EventEmitter(), {
    isTTY: true,
    columns: 80,
    rows: 24,
    write: (s: string | Uint8Array): boolean => {
      this.written.push(typeof s === 'string' ? s : Buffer.from(s).toString());
      return true;
    },
  });
  private queue: string[] = [];
  readonly stdin = Object.assign(new EventEmitter(), {
    isTTY: true,
    rawMode: false,
    read: (): string | null => this.queue.shift() ?? null,
    setEncoding: () => undefined,
    setRawMode: (on: boolean) => {
      this.stdin.rawMode = on;
    },
    ref: () => undefined,
    unref: () => undefined,
    resume: () => undefined,
    pause: () => undefined,
  });

  press(keys: string): void {
    this.queue.push(keys);
    this.stdin.emit('readable');
  }

  get text(): string {
    return this.written.join('');
  }
}

function launch(term: FakeTerminal, services = new FakeServices(), signal?: AbortSignal) {
  const env = { env: { NO_COLOR: '1' }, cwd: process.cwd() };
  const stderr = Object.assign(new PassThrough(), {
    isTTY: false,
  }) as unknown as NodeJS.WriteStream;
  return launchTui({
    env,
    stdout: term.stdout as unknown as NodeJS.WriteStream,
    stdin: term.stdin as unknown as NodeJS.ReadStream,
    stderr,
    services,
    signal,
  });
}

const ENTER = '\x1b[?1049h';
const LEAVE = '\x1b[?1049l';

describe('`cirt` / `cirt tui` on the command line', () => {
  test.each([[[]], [['tui']], [['--cases-dir', '/tmp/x']]])(
    'argv %j without a terminal refuses with exit 2 and points at `cirt run`',
    async (argv) => {
      const r = await runCli(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/needs a terminal/);
      expect(r.err).toContain('cirt run <playbook> --target <container>');
    },
  );

  test.each([
    { argv: [], tui: true },
    { argv: ['tui', '--case', 'x'], tui: true },
    { argv: ['-H', 'tcp://h:2375', 'tui'], tui: true },
    { argv: ['--host=unix:///s', '--cases-dir', 'c'], tui: true },
    { argv: ['run', 'contain', '-t', 'x'], tui: false },
    { argv: ['--help'], tui: false },
    { argv: ['tui', '--help'], tui: false },
    { argv: ['-H', 'tcp://h:2375', 'ps'], tui: false },
  ])('isTuiInvocation($argv) is $tui', ({ argv, tui }) => expect(isTuiInvocation(argv)).toBe(tui));

  test('--case takes a case id under the cases folder or a folder path; anything else is a usage error', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-case-arg-'));
    try {
      fs.mkdirSync(path.join(root, 'cases', 'c-1'), { recursive: true });
      fs.writeFileSync(path.join(root, 'cases', 'c-1', 'case.json'), '{}');
      const io = {
        out: new PassThrough(),
        err: new PassThrough(),
        interactive: false,
        env: {},
        cwd: root,
      };
      await expect(resolveCaseDir('c-1', {}, io)).resolves.toBe(path.join(root, 'cases', 'c-1'));
      await expect(resolveCaseDir('cases/c-1', {}, io)).resolves.toBe(
        path.join(root, 'cases', 'c-1'),
      );
      await expect(resolveCaseDir('c-', {}, io)).resolves.toBe(path.join(root, 'cases', 'c-1'));
      await expect(resolveCaseDir('nope', {}, io)).rejects.toThrow(/No case "nope"/);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  test('the fast TUI entry accepts the same global options as the full program', () => {
    const io = {
      out: new PassThrough(),
      err: new PassThrough(),
      interactive: false,
      env: {},
      cwd: '/',
    };
    const flags = (p: { options: readonly { long?: string }[] }) =>
      p.options
        .map((o) => o.long)
        .filter((l) => l !== '--version')
        .sort();
    expect(flags(buildTuiProgram(io, { code: 0 }))).toEqual(flags(buildProgram(io, { code: 0 })));
  });
});

describe('launchTui leaves the terminal as it found it', () => {
  test('a normal quit: alternate screen entered, then left, cursor shown, raw mode off; exit 0', async () => {
    const term = new FakeTerminal();
    const done = launch(term);
    await until(
      () => term.text,
      (t) => t.includes('cirt › Containers'),
    );
    expect(term.written[0]).toContain(ENTER);
    expect(term.stdin.rawMode).toBe(true);
    term.press('q');
    await expect(done).resolves.toBe(0);
    expect(term.written.at(-1)).toContain(LEAVE);
    expect(term.written.at(-1)).toContain('\x1b[?25h');
    expect(term.stdin.rawMode).toBe(false);
  });

  test('Ctrl-C then y quits with 130', async () => {
    const term = new FakeTerminal();
    const done = launch(term);
    await until(
      () => term.text,
      (t) => t.includes('cirt › Containers'),
    );
    term.press('\x03');
    await until(
      () => term.text,
      (t) => t.includes('Quit cirt? [y/N]'),
    );
    term.press('y');
    await expect(done).resolves.toBe(130);
    expect(term.written.at(-1)).toContain(LEAVE);
  });

  test('SIGINT/SIGTERM from outside (the abort signal) ends it with 130', async () => {
    const term = new FakeTerminal();
    const ac = new AbortController();
    const done = launch(term, new FakeServices(), ac.signal);
    await until(
      () => term.text,
      (t) => t.includes('cirt › Containers'),
    );
    ac.abort();
    await expect(done).resolves.toBe(130);
    expect(term.written.at(-1)).toContain(LEAVE);
  });

  test('after an error inside the UI, the error propagates and the terminal is still restored', async () => {
    const term = new FakeTerminal();
    const svc = new FakeServices();
    svc.watchContainers = () => {
      throw new Error('boom in a service');
    };
    await expect(launch(term, svc)).rejects.toThrow('boom in a service');
    expect(term.written.at(-1)).toContain(LEAVE);
    expect(term.stdin.rawMode).toBe(false);
  });
});
