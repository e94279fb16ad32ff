import { describe, expect, test } from '@jest/globals';
import { registry } from '../../src/actions/index.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { runCli } from '../helpers/run-cli.js';

/** `cirt actions` is the documentation of the registry: what it prints must be true. */
describe('cirt actions: the registry as docs', () => {
  test.each(registry.list().map((a) => [a.name, a] as const))(
    'the example of %s is a valid playbook step using that action',
    (name, a) => {
      const text = `name: example\nsteps:\n${a.example.replace(/^/gm, '  ')}\n`;
      const r = parsePlaybook(text, registry, 'example.yaml');
      expect(r.problems).toEqual([]);
      expect(r.playbook?.steps.map((s) => s.uses)).toEqual([name]);
    },
  );

  test('--json lists every registered action with its params schema, and nothing else on stdout', async () => {
    const r = await runCli(['actions', '--json']);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.out) as {
      name: string;
      params: { type?: string };
      mutates: boolean;
      example: string;
    }[];
    expect(list.map((a) => a.name)).toEqual(registry.names());
    for (const a of list) expect(a.params.type).toBe('object');
    expect(list.find((a) => a.name === 'contain:kill')).toMatchObject({
      mutates: true,
      confirmByDefault: true,
    });
  });

  test('the text form names each action, says whether it changes the container or asks, and shows params with defaults', async () => {
    const r = await runCli(['actions']);
    expect(r.code).toBe(0);
    for (const name of registry.names()) expect(r.out).toMatch(new RegExp(`^${name}  \\[`, 'm'));
    expect(r.out).toMatch(/^contain:stop {2}\[changes the container, asks for approval\]$/m);
    expect(r.out).toMatch(/^collect:logs {2}\[read-only\]$/m);
    expect(r.out).toContain('network (string, default "cirt-quarantine")');
    expect(r.out).toContain('policy (one of no|on-failure|unless-stopped|always, default "no")');
    expect(r.out).toMatch(/^contain:pause {2}\[[^\]]*\]\n.*\n {2}params: none\n/m);
  });
});
