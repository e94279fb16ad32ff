import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { registry } from '../../src/actions/index.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { runCli } from '../helpers/run-cli.js';

// Four different mistakes; the comments give where each must be reported (line:col, 1-based).
const BAD = [
  'name: bad',
  'steps:',
  '  - id: isolate',
  '    uses: contain:network-isolate',
  '    with:',
  '      network: 42', // 6:16 mistyped param
  '  - id: isolate', // 7:9 duplicate id
  '    uses: contain:pause',
  '  - uses: contain:teleport', // 9:11 unknown action
  '  - uses: contain:limit',
  '    with:',
  '      cpus: 0.5',
  '      colour: red', // 13:7 unknown param
  '',
].join('\n');

describe('an invalid playbook is rejected as a whole, before any engine is contacted', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-pbload-'));
  const file = path.join(dir, 'bad.yaml');
  // Stands in for an engine: any connection attempt is counted (and would be the loader's failure).
  const server = net.createServer((s) => s.destroy());
  let connections = 0;
  let port = 0;

  beforeAll(async () => {
    fs.writeFileSync(file, BAD);
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('cirt run reports every problem with file:line:col and the step, exits 2, connects nowhere', async () => {
    const r = await runCli(['--host', `tcp://127.0.0.1:${port}`, 'run', file, '--target', 'x'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('4 problems in playbook');
    const lines = r.err.split('\n');
    const at = (lc: string) =>
      lines.find((l) => l.includes(`bad.yaml:${lc}: `)) ?? `(nothing at ${lc})`;
    expect(at('6:16')).toMatch(
      /step 1 "isolate" \(contain:network-isolate\): "network": must be text \(it is a number\)/,
    );
    expect(at('7:9')).toMatch(/step 2 .*duplicate step id "isolate" \(also step 1\)/);
    expect(at('9:11')).toMatch(/step 3 .*unknown action "contain:teleport"/);
    expect(at('13:7')).toMatch(
      /step 4 .*unknown param "colour" for contain:limit; it takes cpus, memory, pidsLimit/,
    );
    expect(connections).toBe(0);
  });

  test('the same file through the engine address does reach the stand-in when valid (the counter works)', async () => {
    const good = path.join(dir, 'good.yaml');
    fs.writeFileSync(good, 'name: good\nsteps:\n  - uses: contain:pause\n');
    const r = await runCli(['--host', `tcp://127.0.0.1:${port}`, 'run', good, '--target', 'x'], {
      cwd: dir,
    });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`Cannot reach the Docker engine at tcp://127.0.0.1:${port}`);
    expect(connections).toBeGreaterThan(0);
  });

  test('a problem at the top (bad name, unknown key) does not hide the problems in the steps', () => {
    const text =
      'name: "no/slashes"\ncolour: red\nsteps:\n  - uses: contain:teleport\n  - uses: contain:stop\n    with: { timeout: soon }\n';
    const { playbook, problems } = parsePlaybook(text, registry, 't.yaml');
    expect(playbook).toBeUndefined();
    expect(problems.map((p) => `${p.line}:${p.col} ${p.message}`)).toEqual([
      expect.stringMatching(/^1:7 "name": /),
      expect.stringMatching(/^2:1 unknown key "colour"/),
      expect.stringMatching(/^4:11 unknown action "contain:teleport"/),
      expect.stringMatching(/^6:22 "timeout": must be a number \(it is text\)/),
    ]);
  });

  test('bad YAML is reported with its position too', () => {
    const { problems } = parsePlaybook(
      'name: x\nsteps:\n  - uses: contain:pause\n    with: [unclosed\n',
      registry,
      'y.yaml',
    );
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ file: 'y.yaml' });
    expect(problems[0].line).toBeGreaterThanOrEqual(4);
  });

  test.each([
    [
      'contain:limit with nothing to limit',
      'contain:limit',
      '{}',
      /at least one of cpus, memory, pidsLimit/,
    ],
    [
      'contain:limit with a bad size',
      'contain:limit',
      '{ memory: lots }',
      /"memory": a size of at least 6m/,
    ],
    [
      'contain:restart-policy with retries for "no"',
      'contain:restart-policy',
      '{ policy: "no", maximumRetryCount: 3 }',
      /only applies to policy on-failure/,
    ],
    [
      'contain:kill with a shell in the signal',
      'contain:kill',
      '{ signal: "KILL; rm -rf /" }',
      /"signal": unknown signal "KILL; rm -rf \/"/,
    ],
    [
      'contain:network-isolate with a bad network name',
      'contain:network-isolate',
      '{ network: "../x" }',
      /"network": a Docker network name/,
    ],
  ])('%s is refused at load time', (_what, uses, withText, message) => {
    const { problems } = parsePlaybook(
      `name: p\nsteps:\n  - uses: ${uses}\n    with: ${withText}\n`,
      registry,
      'p.yaml',
    );
    expect(problems.map((p) => p.message).join('\n')).toMatch(message);
    expect(problems[0].line).toBe(4);
  });
});
