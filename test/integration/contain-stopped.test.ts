import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

async function aliasesOf(docker: Docker, id: string): Promise<Record<string, string[]>> {
  const nets = (await docker.getContainer(id).inspect()).NetworkSettings.Networks;
  return Object.fromEntries(Object.entries(nets).map(([name, e]) => [name, e.Aliases ?? []]));
}

// The engine leaves NetworkID empty in a stopped container's inspect: isolation, ps and release must
// not depend on it (an empty id once sent the API to /networks//… and crashed the run).
describe('isolating and releasing a container that is not running (real engine)', () => {
  let docker: Docker;
  let id = '';
  const prefix = uniquePrefix('contain-stopped');
  const name = `${prefix}-web`;
  const svc = `${prefix}-svc`;
  const quarantine = `${prefix}-q`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-stopped-'));
  const playbook = path.join(dir, 'isolate.yaml');
  const cli = (...args: string[]) => runCli(['--cases-dir', dir, ...args]);

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    await docker.createNetwork({ Name: svc, Labels: { 'cirt.lab.prefix': prefix } });
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', 'sleep 600'],
      Labels: { 'cirt.lab.prefix': prefix },
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { NetworkMode: svc, PortBindings: { '80/tcp': [{ HostPort: '' }] } },
      NetworkingConfig: { EndpointsConfig: { [svc]: { Aliases: ['api.internal'] } } },
    });
    id = c.id;
    fs.writeFileSync(
      playbook,
      `name: isolate-only\nsteps:\n  - id: isolate\n    uses: contain:network-isolate\n    with:\n      network: ${quarantine}\n`,
    );
  }, 120_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the network ids in inspect are empty for it (the condition under test)', async () => {
    const info = await docker.getContainer(id).inspect();
    expect(info.State.Running).toBe(false);
    expect(info.NetworkSettings.Networks[svc].NetworkID).toBe('');
  });

  test('isolate records the real network id and leaves it only on the quarantine; again is a no-op', async () => {
    const r = await cli('run', playbook, '--target', name, '--case', 'stopped');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(Object.keys(await aliasesOf(docker, id))).toEqual([quarantine]);
    const rec = JSON.parse(
      fs.readFileSync(path.join(dir, 'stopped', 'containment', 'network-isolate.json'), 'utf8'),
    );
    const svcId = ((await docker.getNetwork(svc).inspect()) as { Id: string }).Id;
    expect(rec.before).toEqual([
      expect.objectContaining({
        name: svc,
        id: svcId,
        aliases: expect.arrayContaining(['api.internal']),
      }),
    ]);

    const again = await cli('run', playbook, '--target', name, '--case', 'stopped');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(
      /noop: .*already isolated: only on quarantine network .* \(by case stopped\)/,
    );
  });

  test('cirt ps --all shows it quarantined by the case', async () => {
    const r = await runCli(['ps', '--all', '--json']);
    const row = (
      JSON.parse(r.out) as { id: string; quarantined: boolean; case: string | null }[]
    ).find((x) => x.id === id);
    expect(row).toMatchObject({ quarantined: true, case: 'stopped' });
  });

  test('release puts it back on its network with its alias and off the quarantine; it then starts there', async () => {
    const r = await cli('release', '--yes', '--case', 'stopped', '--json');
    expect(r.code).toBe(0);
    expect(
      JSON.parse(r.out).outcomes.find(
        (o: { action: string }) => o.action === 'release:network-isolate',
      ),
    ).toMatchObject({
      result: 'ok',
      details: expect.objectContaining({ rejoined: [svc], left: [quarantine] }),
    });
    const nets = await aliasesOf(docker, id);
    expect(Object.keys(nets)).toEqual([svc]);
    expect(nets[svc]).toContain('api.internal');
    await docker.getContainer(id).start();
    const info = await docker.getContainer(id).inspect();
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([svc]);
    expect(info.NetworkSettings.Networks[svc].IPAddress).not.toBe('');

    const again = await cli('release', '--yes', '--case', 'stopped');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/NOTHING TO RELEASE/);
  });
});
