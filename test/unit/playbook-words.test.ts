import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { registry } from '../../src/actions/index.js';
import { signalProblem } from '../../src/actions/signals.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { closest } from '../../src/util/closest.js';
import { runCli } from '../helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-words-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const messages = (yaml: string): string[] =>
  parsePlaybook(yaml, registry, 'p.yaml').problems.map((p) => p.message);

describe("cirt validate speaks the user's words", () => {
  test.each([
    ['contain:pasue', 'contain:pause'],
    ['contain:isolate', 'contain:network-isolate'],
    ['colect:logs', 'collect:logs'],
  ])('unknown action %s: did you mean %s', (uses, meant) => {
    expect(messages(`name: p\nsteps:\n  - uses: ${uses}\n`).join('\n')).toContain(
      `(did you mean "${meant}"?)`,
    );
  });

  test('an unknown param: did you mean, and the params it takes', () => {
    const m = messages(
      'name: p\nsteps:\n  - uses: contain:network-isolate\n    with:\n      netwrok: q\n',
    ).join('\n');
    expect(m).toMatch(
      /unknown param "netwrok" for contain:network-isolate \(did you mean "network"\?\); it takes network/,
    );
    expect(
      messages('name: p\nsteps:\n  - uses: collect:logs\n    contine-on-error: true\n')[0],
    ).toMatch(/unknown key "contine-on-error" \(did you mean "continue-on-error"\?\)/);
  });

  test.each([
    ['SIGKIL', /unknown signal "SIGKIL" \(did you mean "SIGKILL"\?\)/],
    ['SIGTREM', /did you mean "SIGTERM"/],
    ['99', /not between 1 and 64/],
  ])(
    'contain:kill signal %s is refused at load (the engine would say 400 after earlier steps ran)',
    (sig, re) => {
      const m = messages(
        `name: p\nsteps:\n  - uses: contain:kill\n    with:\n      signal: ${sig}\n`,
      );
      expect(m.join('\n')).toMatch(re);
    },
  );

  test.each(['SIGKILL', 'KILL', 'term', 'SIGUSR1', '9', 'SIGRTMIN+3'])(
    'signal %s is accepted',
    (sig) => expect(signalProblem(sig)).toBeUndefined(),
  );

  test('no raw library text: a list that is not a list, a missing field', () => {
    const m = messages('name: p\nsteps: all of them\n').join('\n');
    expect(m).toMatch(/"steps": must be a list \(it is text\)/);
    expect(m).not.toMatch(/Invalid input|expected array/);
    expect(messages('name: p\nsteps:\n  - id: x\n').join('\n')).toMatch(/"uses": is missing/);
  });

  test('closest only suggests what is near', () => {
    expect(closest('pause', ['pause-all', 'unpause'])).toBeUndefined();
    expect(closest('isolat', ['isolate'])).toBe('isolate');
  });

  test('cirt validate warns when a kill comes before the processes are collected', async () => {
    const file = path.join(dir, 'order.yaml');
    fs.writeFileSync(
      file,
      'name: order\nsteps:\n  - id: kill\n    uses: contain:kill\n  - id: procs\n    uses: collect:processes\n  - uses: collect:logs\n',
    );
    const r = await runCli(['validate', file]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(
      /! warning: .*order\.yaml:5:1: step "procs" \(collect:processes\): runs after step "kill" \(contain:kill\) at line 3: the processes are gone by then/,
    );
    const j = await runCli(['validate', file, '--json']);
    expect(JSON.parse(j.out).results[0].warnings).toHaveLength(1);
  });

  test('cirt actions NAME shows one action; a typo is exit 2 with did you mean', async () => {
    const one = await runCli(['actions', 'contain:pause']);
    expect(one.code).toBe(0);
    expect(one.out.split('\n')[0]).toMatch(/^contain:pause +\[/);
    expect(one.out).not.toContain('contain:kill');
    expect((await runCli(['actions', 'pause'])).out).toMatch(/^contain:pause/);
    const json = JSON.parse((await runCli(['actions', 'collect:logs', '--json'])).out);
    expect(json.name).toBe('collect:logs');
    const typo = await runCli(['actions', 'contain:puase']);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/Unknown action "contain:puase" \(did you mean "contain:pause"\?\)/);
  });
});
