import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { execIn, execOk } from '../fixtures/exec.js';
import {
  cleanupPrefix,
  httpStatus,
  readC2Bytes,
  stageCompromise,
  waitFor,
  type Lab,
} from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PONG_PORT = 5555;

async function networksOf(docker: Docker, id: string): Promise<Record<string, Docker.NetworkInfo>> {
  return (await docker.getContainer(id).inspect()).NetworkSettings.Networks;
}

function hostPortOf(info: Docker.ContainerInspectInfo): number {
  const b = info.NetworkSettings.Ports['80/tcp'] ?? [];
  return Number(b[0]?.HostPort ?? 0);
}

/** A user network with a configured subnet, so a fixed address can be given (and must come back). */
async function createServiceNetwork(
  docker: Docker,
  name: string,
): Promise<{ id: string; ip: string }> {
  for (let attempt = 0; ; attempt++) {
    const [a, b] = [randomInt(100, 250), randomInt(0, 255)];
    try {
      const net = await docker.createNetwork({
        Name: name,
        IPAM: { Config: [{ Subnet: `10.${a}.${b}.0/24` }] },
      });
      return { id: net.id, ip: `10.${a}.${b}.50` };
    } catch (err) {
      if (attempt >= 5) throw err; // another network already uses that subnet: pick another
    }
  }
}

/** Can the victim open a new TCP connection to the attacker right now? */
async function reachesAttacker(docker: Docker, lab: Lab): Promise<boolean> {
  const r = await execIn(
    docker,
    lab.victim.id,
    ['sh', '-c', `nc -w 2 ${lab.attacker.ip} ${PONG_PORT}`],
    { timeoutMs: 10_000 },
  );
  return r.stdout.includes('pong');
}

describe('contain:network-isolate and cirt release (real engine)', () => {
  let docker: Docker;
  let lab: Lab;
  let svc: { id: string; ip: string };
  const prefix = uniquePrefix('contain');
  const quarantine = `${prefix}-quarantine`;
  const caseId = `${prefix}-case`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-contain-'));
  const playbook = path.join(dir, 'isolate.yaml');
  const cli = (...args: string[]) => runCli(['--cases-dir', dir, ...args]);
  let original: Record<string, Docker.NetworkInfo>;

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix });
    svc = await createServiceNetwork(docker, `${prefix}-svc`);
    await docker.getNetwork(svc.id).connect({
      Container: lab.victim.id,
      EndpointConfig: { Aliases: ['web', 'api.internal'], IPAMConfig: { IPv4Address: svc.ip } },
    });
    // The C2 listener serves one connection at a time and stays stuck on the cut one, so a second listener answers "pong".
    await execOk(docker, lab.attacker.id, [
      'sh',
      '-c',
      `setsid sh -c 'while true; do echo pong | nc -l -p ${PONG_PORT}; done' </dev/null >/dev/null 2>&1 &`,
    ]);
    original = await networksOf(docker, lab.victim.id);
    fs.writeFileSync(
      playbook,
      `name: isolate-only\nsteps:\n  - id: isolate\n    uses: contain:network-isolate\n    with:\n      network: ${quarantine}\n`,
    );
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('before isolation: the port answers, the C2 connection carries data, the attacker is reachable', async () => {
    expect(await httpStatus(lab.victim.hostPort)).toBe(200);
    const c0 = await readC2Bytes(docker, lab.victim.id);
    await waitFor(
      'C2 bytes to grow',
      async () => (await readC2Bytes(docker, lab.victim.id)) > c0,
      5_000,
    );
    expect(await reachesAttacker(docker, lab)).toBe(true);
    expect(Object.keys(original).sort()).toEqual([`${prefix}-net`, `${prefix}-svc`]);
  });

  test('after isolation: port refused, C2 data stops, only on the internal quarantine network', async () => {
    const r = await cli('run', playbook, '--target', lab.victim.name, '--case', caseId);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/isolate \(contain:network-isolate\) ok/);

    const nets = await networksOf(docker, lab.victim.id);
    expect(Object.keys(nets)).toEqual([quarantine]);
    expect(nets[quarantine].Aliases).toContain(`cirt-case-${caseId}`);
    const q = await docker.getNetwork(quarantine).inspect();
    expect(q.Internal).toBe(true);
    expect(q.Options?.['com.docker.network.bridge.enable_icc']).toBe('false');

    expect(await httpStatus(lab.victim.hostPort)).toBe('refused');
    // Let bytes already in flight land, then watch a window in which the attacker sends a beat every second.
    await sleep(500);
    const c1 = await readC2Bytes(docker, lab.victim.id);
    await sleep(3_000);
    expect(await readC2Bytes(docker, lab.victim.id)).toBe(c1);
    expect(await reachesAttacker(docker, lab)).toBe(false);

    const rec = JSON.parse(
      fs.readFileSync(path.join(dir, caseId, 'containment', 'network-isolate.json'), 'utf8'),
    );
    const svcRec = rec.before.find((e: { name: string }) => e.name === `${prefix}-svc`);
    expect(svcRec).toMatchObject({ ipv4: svc.ip, mac: original[`${prefix}-svc`].MacAddress });
    expect(svcRec.aliases).toEqual(expect.arrayContaining(['web', 'api.internal']));
  });

  test('isolating again is a no-op that says so', async () => {
    const r = await cli('run', playbook, '--target', lab.victim.name, '--case', caseId);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/noop: .*already isolated: only on quarantine network .* \(by case /);
    expect(Object.keys(await networksOf(docker, lab.victim.id))).toEqual([quarantine]);
  });

  test('cirt ps shows the container quarantined by the case', async () => {
    const r = await runCli(['ps', '--json']);
    expect(r.code).toBe(0);
    const row = (
      JSON.parse(r.out) as { id: string; quarantined: boolean; case: string | null }[]
    ).find((x) => x.id === lab.victim.id);
    expect(row).toMatchObject({ quarantined: true, case: caseId });
    const plain = await runCli(['ps']);
    expect(plain.out).toMatch(new RegExp(`${lab.victim.name} .*quarantined \\(case ${caseId}\\)`));
  });

  test('release restores the networks, aliases and fixed address, and traffic flows again', async () => {
    const r = await cli('release', '--yes', '--case', caseId, '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(
      report.outcomes.find((o: { action: string }) => o.action === 'release:network-isolate')
        .result,
    ).toBe('ok');

    const info = await docker.getContainer(lab.victim.id).inspect();
    const nets = info.NetworkSettings.Networks;
    expect(Object.keys(nets).sort()).toEqual(Object.keys(original).sort());
    for (const name of Object.keys(original))
      expect(nets[name].Aliases).toEqual(expect.arrayContaining(original[name].Aliases ?? []));
    expect(nets[`${prefix}-svc`].IPAddress).toBe(svc.ip);

    // The engine may pick a new host port for the published port: ask it.
    const port = hostPortOf(info);
    const warnings: string[] = report.outcomes.find(
      (o: { action: string }) => o.action === 'release:network-isolate',
    ).warnings;
    if (port !== lab.victim.hostPort)
      expect(warnings).toContainEqual(
        expect.stringMatching(
          new RegExp(`published port 80/tcp was on .*:${lab.victim.hostPort}.*now on .*:${port}`),
        ),
      );
    await waitFor(
      `published port ${port} to answer`,
      async () => (await httpStatus(port, 1_000)) === 200,
      10_000,
    );
    await waitFor(
      'a new connection from the victim to the attacker',
      () => reachesAttacker(docker, lab),
      10_000,
      500,
    );

    const custody = fs
      .readFileSync(path.join(dir, caseId, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(custody.map((c: { action: string }) => c.action)).toEqual(
      expect.arrayContaining([
        'release:start',
        'release:network-isolate',
        'release:unpause',
        'release:end',
      ]),
    );
  });

  test('releasing again changes nothing and says so', async () => {
    const before = await networksOf(docker, lab.victim.id);
    const r = await cli('release', '--yes', '--case', caseId);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NOTHING TO RELEASE/);
    expect(Object.keys(await networksOf(docker, lab.victim.id)).sort()).toEqual(
      Object.keys(before).sort(),
    );
  });
});
