import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { cleanupPrefix, startPlainVictim, type LabContainer } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

/** sha256 of every file in a folder, by relative path. */
function hashTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(root, full)] = createHash('sha256')
      .update(fs.readFileSync(full))
      .digest('hex');
  }
  return out;
}

describe('restart-policy, limit, stop, kill, and release of a sealed case (real engine)', () => {
  let docker: Docker;
  let victim: LabContainer;
  const prefix = uniquePrefix('settings');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-settings-'));
  const pb = (name: string, steps: string) => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(file, `name: ${name}\nsteps:\n${steps}`);
    return file;
  };
  const cli = (...args: string[]) => runCli(['--cases-dir', dir, ...args]);
  const hc = async () => (await docker.getContainer(victim.id).inspect()).HostConfig;

  beforeAll(async () => {
    docker = await requireEngine();
    victim = await startPlainVictim(docker, prefix);
    await docker
      .getContainer(victim.id)
      .update({ RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 } });
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('restart-policy and limit change the container, record the old values, and are no-ops the second time', async () => {
    const file = pb(
      'starve',
      '  - uses: contain:restart-policy\n  - uses: contain:limit\n    with: { cpus: 0.5, memory: 64m, pidsLimit: 40 }\n',
    );
    const r = await cli('run', file, '--target', victim.name, '--case', 'starve');
    expect(r.code).toBe(0);
    expect(await hc()).toMatchObject({
      RestartPolicy: { Name: 'no' },
      NanoCpus: 5e8,
      Memory: 64 * 1024 ** 2,
      MemorySwap: 64 * 1024 ** 2,
      PidsLimit: 40,
    });
    const rec = JSON.parse(
      fs.readFileSync(path.join(dir, 'starve', 'containment', 'restart-policy.json'), 'utf8'),
    );
    expect(rec.before).toEqual({ Name: 'on-failure', MaximumRetryCount: 5 });

    const again = await cli('run', file, '--target', victim.name, '--case', 'starve');
    expect(again.code).toBe(0);
    expect(again.out.match(/noop: /g)).toHaveLength(2);
    expect(fs.existsSync(path.join(dir, 'starve', 'containment', 'limit-2.json'))).toBe(false);
  });

  test('release restores the policy and lifts the limits (to the whole host where the engine cannot unset them)', async () => {
    const r = await cli('release', '--yes', '--case', 'starve');
    expect(r.code).toBe(0);
    const host = await docker.info();
    expect(await hc()).toMatchObject({
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
      NanoCpus: host.NCPU * 1e9,
      Memory: host.MemTotal,
    });
    expect([0, -1, null]).toContain((await hc()).PidsLimit);
    expect(r.out).toMatch(/cannot remove a CPU cap once set/);
    expect(r.out).toMatch(/cannot remove a memory cap once set/);
  });

  test('stop needs approval: without --yes nothing runs (exit 2, no case opened) and the container keeps running', async () => {
    const file = pb('stop', '  - uses: contain:stop\n    with: { timeout: 1 }\n');
    const r = await cli('run', file, '--target', victim.name, '--case', 'stop');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/need approval \(".*" contain:stop\)/);
    expect(r.err).toMatch(/nothing was run/);
    expect((await docker.getContainer(victim.id).inspect()).State.Running).toBe(true);

    const yes = await cli('run', file, '--target', victim.name, '--case', 'stop', '--yes');
    expect(yes.code).toBe(0);
    expect((await docker.getContainer(victim.id).inspect()).State.Status).toBe('exited');
    expect(
      (await cli('run', file, '--target', victim.name, '--case', 'stop', '--yes')).out,
    ).toMatch(/noop: .* is already exited/);
  });

  test('kill sends SIGKILL by default (exit 137) and is a no-op on a stopped container', async () => {
    await docker.getContainer(victim.id).start();
    const file = pb('kill', '  - uses: contain:kill\n');
    const r = await cli('run', file, '--target', victim.name, '--case', 'kill', '--yes');
    expect(r.code).toBe(0);
    const st = (await docker.getContainer(victim.id).inspect()).State;
    expect([st.Status, st.ExitCode]).toEqual(['exited', 137]);
    expect(
      (await cli('run', file, '--target', victim.name, '--case', 'kill', '--yes')).out,
    ).toMatch(/noop: /);
  });

  test('releasing a sealed case leaves its files alone and continues the custody chain in custody.post-seal.jsonl', async () => {
    await docker.getContainer(victim.id).start();
    const file = pb(
      'iso',
      `  - uses: contain:network-isolate\n    with: { network: ${prefix}-quarantine }\n`,
    );
    expect((await cli('run', file, '--target', victim.name, '--case', 'sealed')).code).toBe(0);
    // What evidence:seal leaves behind, as far as release can see: status "sealed" in case.json.
    const root = path.join(dir, 'sealed');
    const info = JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8'));
    fs.writeFileSync(path.join(root, 'case.json'), JSON.stringify({ ...info, status: 'sealed' }));
    const before = hashTree(root);

    for (let i = 0; i < 2; i++)
      expect((await cli('release', '--yes', '--case', 'sealed')).code).toBe(0);
    const after = hashTree(root);
    const { 'custody.post-seal.jsonl': added, ...rest } = after;
    expect(rest).toEqual(before);
    expect(added).toBeDefined();
    expect(
      Object.keys((await docker.getContainer(victim.id).inspect()).NetworkSettings.Networks),
    ).toEqual(['bridge']);

    const sealedText = fs.readFileSync(path.join(root, 'custody.jsonl'), 'utf8');
    const postText = fs.readFileSync(path.join(root, 'custody.post-seal.jsonl'), 'utf8');
    // Together the two files are one unbroken chain.
    expect(checkChain(sealedText + postText).problems).toEqual([]);
    const post = postText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(post.map((p) => `${p.action} ${p.result}`)).toEqual(
      expect.arrayContaining(['release:network-isolate ok', 'release:network-isolate noop']),
    );
  });

  test('release of a case whose container is gone: exit 2, and the failure is in custody', async () => {
    await docker.getContainer(victim.id).remove({ force: true });
    const r = await cli('release', '--yes', '--case', 'starve');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      new RegExp(`Container ${victim.name} \\(${victim.id.slice(0, 12)}\\) is gone`),
    );
    const last = JSON.parse(
      fs
        .readFileSync(path.join(dir, 'starve', 'custody.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .pop() ?? '{}',
    );
    expect(last).toMatchObject({ action: 'release:start', result: 'failed' });
  });

  test('release of an unknown case: exit 2 with a hint, no engine needed', async () => {
    const r = await runCli([
      '--cases-dir',
      dir,
      '--host',
      'tcp://127.0.0.1:1',
      'release',
      '--case',
      'no-such-case',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No case "no-such-case" in /);
    expect(r.err).toMatch(/--cases-dir/);
  });
});
