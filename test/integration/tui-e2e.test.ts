import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { registry } from '../../src/actions/index.js';
import { planSteps } from '../../src/runner/runner.js';
import { loadPlaybook } from '../../src/playbook/load.js';
import { cleanupPrefix, stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const SHIPPED = path.join(ROOT, 'playbooks', 'contain-and-collect.yaml');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Drives one tmux server of its own (-L), so nothing else running tmux is touched. */
class Tmux {
  constructor(
    readonly socket: string,
    readonly session: string,
  ) {}

  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], {
      encoding: 'utf8',
      timeout: 10_000,
    });
  }

  /** The pane as text; with `escapes`, with the escape sequences tmux keeps for attributes (-e). */
  capture(escapes = false): string {
    return this.run('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', this.session);
  }

  keys(...keys: string[]): void {
    this.run('send-keys', '-t', this.session, ...keys);
  }

  type(text: string): void {
    this.run('send-keys', '-t', this.session, '-l', text);
  }

  /** Polls the pane until `check` holds; fails with the last screen after `ms`. */
  async until(what: string, check: (screen: string) => boolean, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    let screen = '';
    while (Date.now() < end) {
      screen = this.capture();
      if (check(screen)) return screen;
      await sleep(150);
    }
    throw new Error(`waited ${ms} ms for ${what}; the screen was:\n${screen}`);
  }
}

/**
 * The step of the shipped contain-and-collect that asks for approval (its isolate step has
 * `confirm: true`). Throws when none asks: the approval path is part of what this test proves.
 */
function askingStep(target: { id: string; name: string }): { id: string; plan: string } {
  const asking = planSteps(loadPlaybook(SHIPPED, registry), target).find((s) => s.confirm);
  if (!asking)
    throw new Error(
      `${SHIPPED} has no step with confirm: true; the TUI's approval prompt would not be exercised`,
    );
  return asking;
}

describe('cirt TUI end to end: the real binary in tmux against the real engine', () => {
  const prefix = uniquePrefix('tui-e2e');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-e2e-'));
  const tmux = new Tmux(prefix, 'cirt');
  let docker: Docker;
  let lab: Lab;

  beforeAll(async () => {
    docker = await requireEngine();
    // The binary under test is the built one: build it first (type errors elsewhere do not stop tsc emitting).
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (!fs.existsSync(MAIN))
      throw new Error(`build produced no ${MAIN}: ${build.stdout}${build.stderr}`);
    lab = await stageCompromise(docker, { prefix });
    tmux.run(
      'new-session',
      '-d',
      '-s',
      tmux.session,
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
      tmux.run('kill-server');
    } catch {
      // the server is already gone
    }
    // tmux leaves its socket file behind (removed once the server has gone).
    for (let i = 0; i < 20 && spawnSync('tmux', ['-L', prefix, 'list-sessions']).status === 0; i++)
      await sleep(100);
    fs.rmSync(
      path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, prefix),
      { force: true },
    );
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 120_000);

  test('select the victim, run contain-and-collect, approve, get a sealed bundle, find the dropper in the timeline', async () => {
    const victim = lab.victim.name;
    const asks = askingStep({ id: lab.victim.id, name: victim });
    let screen: string;

    // Containers: the live list; typing filters it down to the staged victim, its facts beside it.
    await tmux.until(
      'the container list',
      (s) => s.includes('cirt › Containers') && /^\d+ containers$/m.test(s),
    );
    tmux.type(victim.slice(prefix.length - 8));
    screen = await tmux.until(
      'the filter to match only the victim',
      (s) => /1 of \d+ containers match/.test(s) && s.includes(victim),
    );
    expect(screen).toMatch(/›●/);
    expect(screen).toContain(lab.victim.id.slice(0, 12));
    expect(tmux.capture(true)).not.toContain('\x1b]0;');
    tmux.keys('Enter');
    screen = await tmux.until(
      'the playbook picker',
      (s) => s.includes(`Playbooks for ${victim}`) && s.includes('Plan on'),
    );
    for (let i = 0; i < 10 && !/› contain-and-collect/.test(screen); i++) {
      tmux.keys('j');
      screen = await tmux
        .until('the selection to move', (s) => s !== screen, 5_000)
        .catch(() => tmux.capture());
    }
    expect(screen).toMatch(/› contain-and-collect\s+shipped/);

    // Start: it asks y/N first.
    tmux.keys('Enter');
    await tmux.until('the start question', (s) =>
      s.includes(`Run contain-and-collect on ${victim}? [y/N]`),
    );
    tmux.keys('y');

    // The confirm step stops the run and shows exactly what will change.
    screen = await tmux.until(
      `the approval of step ${asks.id}`,
      (s) => s.includes(`Approve step "${asks.id}"`),
      90_000,
    );
    const planStart = asks.plan.slice(0, 60);
    expect(screen.replace(/\s*\n\s*/g, ' ')).toContain(planStart);
    tmux.keys('y');

    // The run ends with a sealed bundle.
    screen = await tmux.until(
      'the end of the run',
      (s) => /^(OK|FAILED|ABORTED|BLOCKED): /m.test(s),
      240_000,
    );
    const bundle = /^bundle (\S+\.tar\.gz)$/m.exec(screen)?.[1];
    expect(bundle).toBeDefined();
    expect(fs.existsSync(bundle!)).toBe(true);
    expect(fs.readFileSync(`${bundle}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64}\b/);
    expect(path.dirname(bundle!)).toBe(path.join(fs.realpathSync(cwd), 'cases'));

    // The case: its bundle and hash, verified with one key.
    tmux.keys('c');
    const sha = fs.readFileSync(`${bundle}.sha256`, 'utf8').slice(0, 64);
    screen = await tmux.until(
      'the case screen',
      (s) => s.includes('› Case') && s.includes(`sha256 ${sha}`),
      30_000,
    );
    expect(screen).toMatch(/^Findings \(\d+\)/m);
    expect(screen).toMatch(/^Artifacts \(\d+\)/m);
    tmux.keys('v');
    screen = await tmux.until(
      'the verification',
      (s) => /bundle (verified|did NOT verify)/.test(s),
      60_000,
    );
    expect(screen).toContain('✔ bundle verified');

    // The timeline: search for the dropper.
    tmux.keys('t');
    await tmux.until(
      'the timeline',
      (s) => s.includes('› Timeline') && /\d+\/[\d,]+ events/.test(s),
      60_000,
    );
    tmux.keys('/');
    await tmux.until('the search field', (s) => s.includes('search:'));
    tmux.type('kworkerd');
    tmux.keys('Enter');
    screen = await tmux.until(
      'search results for kworkerd',
      (s) => /\d+\/\d+ matching of [\d,]+ .*"kworkerd"/.test(s) && !s.includes('searching'),
      60_000,
    );
    expect(screen).toMatch(/›.*kworkerd/);
    expect(screen).toMatch(/^evidence \S+/m);

    // The victim's log line with an OSC title escape is shown as text and never reaches the pane raw.
    tmux.keys('/');
    await tmux.until('the search field', (s) => s.includes('search:'));
    tmux.keys('C-u');
    for (let i = 0; i < 12; i++) tmux.keys('BSpace');
    tmux.type('title set');
    tmux.keys('Enter');
    screen = await tmux.until(
      'the log lines that set the title',
      (s) => /matching of [\d,]+ .*"title set"/.test(s) && !s.includes('searching'),
      60_000,
    );
    expect(screen).toContain('\\x1b]0;pwned\\x07');
    const raw = tmux.capture(true);
    expect(raw).not.toContain('\x1b]0;');
    expect(raw).not.toContain('\x1b]8;');
    expect(tmux.run('display-message', '-p', '-t', tmux.session, '#{pane_title}').trim()).not.toBe(
      'pwned',
    );

    // Back on the Containers screen the live list shows the victim quarantined by this case.
    const caseId = path.basename(bundle!, '.tar.gz');
    for (let i = 0; i < 6 && !/^cirt › Containers +\? keys$/m.test(tmux.capture()); i++) {
      tmux.keys('q');
      await sleep(400);
    }
    screen = await tmux.until('the victim shown quarantined', (s) =>
      s.includes(`QUARANTINE by case ${caseId.slice(0, 24)}`),
    );
    expect(screen).toMatch(/›‖\S+ \[Q\] +paused/);

    // Leaving: q clears the filter, q again quits with 0 and gives the terminal back.
    for (let i = 0; i < 4 && !tmux.capture().includes('CIRT-EXIT='); i++) {
      tmux.keys('q');
      await sleep(400);
    }
    screen = await tmux.until('cirt to exit', (s) => s.includes('CIRT-EXIT='));
    expect(screen).toContain('CIRT-EXIT=0');
    expect(screen).not.toContain('cirt › ');
  }, 420_000);

  test('cases → release: cirt cases names the case holding the victim; its Case screen releases it after y', async () => {
    const cases = JSON.parse(
      execFileSync(process.execPath, [MAIN, 'cases', '--json'], { cwd, encoding: 'utf8' }),
    ) as { cases: { id: string; target: { id: string }; containment: { label: string }[] }[] };
    const held = cases.cases.find((c) => c.target.id === lab.victim.id && c.containment.length);
    expect(held?.containment.map((c) => c.label)).toEqual(
      expect.arrayContaining(['network isolation', 'pause']),
    );
    const caseId = held!.id;
    const rel = new Tmux(prefix, 'release');
    // A unique start of the id is enough (the resolver every command shares).
    rel.run(
      'new-session',
      '-d',
      '-s',
      'release',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      cwd,
      `${process.execPath} ${MAIN} --case ${caseId.slice(0, -2)}; echo CIRT-EXIT=$?; sleep 600`,
    );
    await rel.until('the case screen with its containment', (s) =>
      /Containment in force: .*network isolation/.test(s),
    );
    rel.keys('r');
    let screen = await rel.until('the release question', (s) =>
      /Release case \S+\? \[y\/N\]/.test(s),
    );
    expect(screen).toMatch(/will undo: .*network isolation/);
    expect(screen).toMatch(/finding\(s\) open/);
    rel.keys('y');
    screen = await rel.until('the release result', (s) => /✔ released: /.test(s), 60_000);
    const info = await docker.getContainer(lab.victim.id).inspect();
    expect(info.State.Paused).toBe(false);
    expect(Object.keys(info.NetworkSettings.Networks).some((n) => n.includes('quarantine'))).toBe(
      false,
    );
    // The Case screen was opened over the Containers screen: q goes back, q again quits.
    for (let i = 0; i < 4 && !rel.capture().includes('CIRT-EXIT='); i++) {
      rel.keys('q');
      await sleep(400);
    }
    await rel.until('cirt to exit', (s) => s.includes('CIRT-EXIT=0'));
  }, 120_000);

  test('NO_COLOR turns colour off (and only colour); the screen redraws cleanly at 80×24 and back', async () => {
    const color = new Tmux(prefix, 'color');
    const plain = new Tmux(prefix, 'plain');
    color.run(
      'new-session',
      '-d',
      '-s',
      'color',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      cwd,
      `${process.execPath} ${MAIN}; sleep 600`,
    );
    plain.run(
      'new-session',
      '-d',
      '-s',
      'plain',
      '-x',
      '120',
      '-y',
      '40',
      '-c',
      cwd,
      `env NO_COLOR=1 ${process.execPath} ${MAIN}; sleep 600`,
    );
    const loaded = (s: string): boolean =>
      s.includes('cirt › Containers') && /^\d+ containers$/m.test(s);
    await color.until('the coloured UI', loaded);
    await plain.until('the NO_COLOR UI', loaded);
    // SGR foreground colours: 30–37, 90–97, 38;…

    const fg = /\x1b\[(?:[0-9;]*;)?(?:3[0-8]|9[0-7])(?:;[0-9;]*)?m/;
    expect(color.capture(true)).toMatch(fg);
    const raw = plain.capture(true);
    expect(raw).not.toMatch(fg);

    expect(raw).toMatch(/\x1b\[(?:[0-9;]*;)?7(?:;[0-9;]*)?m/); // the selection is still inverse

    const frameOk =
      (cols: number) =>
      (s: string): boolean => {
        const lines = s.split('\n');
        return (
          lines.filter((l) => l.startsWith('cirt › Containers')).length === 1 &&
          lines.every((l) => l.length <= cols) &&
          s.includes('Enter playbooks')
        );
      };
    plain.run('resize-window', '-t', 'plain', '-x', '80', '-y', '24');
    const small = await plain.until('a clean 80×24 frame', frameOk(80));
    expect(small.trimEnd().split('\n').length).toBeLessThanOrEqual(24);
    plain.run('resize-window', '-t', 'plain', '-x', '120', '-y', '40');
    await plain.until(
      'a clean 120×40 frame',
      (s) => frameOk(120)(s) && s.split('\n')[0].length > 80,
    );
    color.keys('q');
    plain.keys('q');
  }, 120_000);
});
