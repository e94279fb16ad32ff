import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { cleanupPrefix, stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One tmux server of its own (-L), so nothing else running tmux is touched. */
const tmux = (socket: string) => ({
  run: (...args: string[]): string =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 10_000 }),
  capture(escapes = false): string {
    return this.run('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', 'cirt');
  },
  keys(...keys: string[]): void {
    this.run('send-keys', '-t', 'cirt', ...keys);
  },
  type(text: string): void {
    this.run('send-keys', '-t', 'cirt', '-l', text);
  },
  async until(what: string, check: (screen: string) => boolean, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    let screen = '';
    while (Date.now() < end) {
      screen = this.capture();
      if (check(screen)) return screen;
      await sleep(150);
    }
    throw new Error(`waited ${ms} ms for ${what}; the screen was:\n${screen}`);
  },
});

describe('the TUI, real binary in tmux: s at the isolate approval', () => {
  const prefix = uniquePrefix('tui-declined');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-declined-'));
  const t = tmux(prefix);
  let docker: Docker;
  let lab: Lab;

  beforeAll(async () => {
    docker = await requireEngine();
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (!fs.existsSync(MAIN))
      throw new Error(`build produced no ${MAIN}: ${build.stdout}${build.stderr}`);
    lab = await stageCompromise(docker, { prefix });
    t.run(
      'new-session',
      '-d',
      '-s',
      'cirt',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      cwd,
      `${process.execPath} ${MAIN}; echo CIRT-EXIT=$?; sleep 600`,
    );
  }, 300_000);

  afterAll(async () => {
    try {
      t.run('kill-server');
    } catch {
      // the server is already gone
    }
    for (let i = 0; i < 20 && spawnSync('tmux', ['-L', prefix, 'list-sessions']).status === 0; i++)
      await sleep(100);
    fs.rmSync(
      path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, prefix),
      { force: true },
    );
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 120_000);

  test('the prompt offers yes/skip/abort; s leaves the victim on its network, NOT CONTAINED in red at once and at the end; exit 1', async () => {
    const victim = lab.victim.name;
    await t.until(
      'the container list',
      (s) => s.includes('cirt › Containers') && /^\d+ containers$/m.test(s),
    );
    t.type(victim.slice(prefix.length - 8));
    await t.until(
      'the filter to match only the victim',
      (s) => /1 of \d+ containers match/.test(s) && s.includes(victim),
    );
    t.keys('Enter');
    let screen = await t.until(
      'the playbook picker',
      (s) => s.includes(`Playbooks for ${victim}`) && s.includes('Plan on'),
    );
    for (let i = 0; i < 10 && !/› contain-and-collect/.test(screen); i++) {
      t.keys('j');
      screen = await t
        .until('the selection to move', (s) => s !== screen, 5_000)
        .catch(() => t.capture());
    }
    t.keys('Enter');
    await t.until('the start question', (s) => /Run contain-and-collect on \S+\? \[y\/N\]/.test(s));
    t.keys('y');

    screen = await t.until(
      'the approval of step isolate',
      (s) => s.includes('Approve step "isolate"'),
      90_000,
    );
    expect(screen).toContain(
      'y run · s skip (stays NOT CONTAINED) · a / Enter stop the run (default)',
    );
    t.keys('s');

    // Said at once, while the rest of the playbook still runs.
    screen = await t.until(
      'the live NOT CONTAINED line',
      (s) => s.includes(`NOT CONTAINED: ${victim} — declined isolate (contain:network-isolate)`),
      60_000,
    );
    expect(t.capture(true)).toMatch(
      /\x1b\[(?:[0-9;]*;)?31(?:;[0-9;]*)?m(?:\x1b\[[0-9;]*m)*NOT CONTAINED: /,
    );
    screen = await t.until(
      'the end of the run',
      (s) => /^(OK|FAILED|ABORTED|BLOCKED|DECLINED): |^NOT CONTAINED: the responder/m.test(s),
      240_000,
    );
    expect(screen).toMatch(
      /^NOT CONTAINED: the responder declined step "isolate" \(contain:network-isolate\)/m,
    );
    expect(screen).toMatch(/⊘ isolate .*declined by the responder/);
    expect(screen).not.toMatch(/^OK: /m);
    // Red (SGR 31) in front of the end line.
    expect(t.capture(true)).toMatch(
      /\x1b\[(?:[0-9;]*;)?31(?:;[0-9;]*)?m(?:\x1b\[[0-9;]*m)*NOT CONTAINED: the responder declined/,
    );
    const info = await docker.getContainer(lab.victim.id).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([lab.network.name]);

    // Leaving: the TUI's own exit code is the run's.
    for (let i = 0; i < 6 && !t.capture().includes('CIRT-EXIT='); i++) {
      t.keys('q');
      await sleep(400);
    }
    screen = await t.until('cirt to exit', (s) => s.includes('CIRT-EXIT='));
    expect(screen).toContain('CIRT-EXIT=1');
  }, 420_000);
});
