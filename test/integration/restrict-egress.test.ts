import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { probeFromNetns } from '../../src/host/netns.js';
import { LAB_IMAGE } from '../fixtures/images.js';
import {
  hostPid,
  httpStatus,
  readC2Bytes,
  stageCompromise,
  waitFor,
  type Lab,
} from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The namespace's rules without packet counters (Docker's DNS NAT rules count as they are used). */
const rules = (pid: number): string =>
  execFileSync('nsenter', ['-t', String(pid), '-n', 'nft', 'list', 'ruleset'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).replace(/counter packets \d+ bytes \d+/g, 'counter');

async function startWeb(
  docker: Docker,
  lab: Lab,
  role: string,
): Promise<{ id: string; ip: string }> {
  const c = await docker.createContainer({
    name: `${lab.prefix}-${role}`,
    Image: LAB_IMAGE,
    Cmd: ['httpd', '-f', '-p', '80', '-h', '/var/www'],
    Labels: { 'cirt.lab.prefix': lab.prefix },
    HostConfig: { NetworkMode: lab.network.name },
  });
  await c.start();
  const ip = (await c.inspect()).NetworkSettings.Networks[lab.network.name].IPAddress;
  return { id: c.id, ip };
}

describe('contain:restrict-egress cuts the way out and keeps the service answering (real engine)', () => {
  let docker: Docker;
  let lab: Lab;
  let peer: { id: string; ip: string };
  let allowed: { id: string; ip: string };
  let pid = 0;
  let rulesBefore = '';
  let stepStart = 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-egress-'));
  const cases = path.join(dir, 'cases');
  const playbook = path.join(dir, 'keep-serving.yaml');
  const caseId = 'eg1';

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix: uniquePrefix('egress') });
    [peer, allowed] = await Promise.all([
      startWeb(docker, lab, 'peer'),
      startWeb(docker, lab, 'allowed'),
    ]);
    pid = await hostPid(docker, lab.victim.id);
    for (const t of [peer, allowed])
      await waitFor(
        `web server at ${t.ip}`,
        async () => (await probeFromNetns(pid, t.ip, 80, 500)) === 'connected',
      );
    rulesBefore = rules(pid);
    // The shipped playbook, with an allow list naming one container of this test.
    const shipped = fs.readFileSync(
      path.join(process.cwd(), 'playbooks', 'contain-keep-serving.yaml'),
      'utf8',
    );
    expect(shipped).toContain('      allow: []\n');
    fs.writeFileSync(
      playbook,
      shipped.replace(
        '      allow: []\n',
        `      allow:\n        - { cidr: ${allowed.ip}/32, ports: [80], protocol: tcp }\n`,
      ),
    );
  }, 60_000);

  afterAll(async () => {
    if (lab) await lab.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the beacon is live before the step', async () => {
    const a = await readC2Bytes(docker, lab.victim.id);
    await waitFor(
      'beacon bytes to grow',
      async () => (await readC2Bytes(docker, lab.victim.id)) > a,
      5_000,
    );
  });

  test('contain-keep-serving restricts egress (verified by its own probes), collects without pausing and seals', async () => {
    stepStart = Math.floor(Date.now() / 1000);
    const r = await runCli([
      '--cases-dir',
      cases,
      'run',
      playbook,
      '--target',
      lab.victim.name,
      '--case',
      caseId,
      '--yes',
    ]);
    expect(r.out).toMatch(
      /restrict-egress \(contain:restrict-egress\) ok: egress of .* restricted in \d+ ms .*probe to [\d.]+:9 blocked; 80\/tcp still answers/,
    );
    expect(r.out).toMatch(/seal \(evidence:seal\) ok/);
    expect(r.code).toBe(0);
    expect((await docker.getContainer(lab.victim.id).inspect()).State.Paused).toBe(false);

    const root = path.join(cases, caseId);
    expect(
      fs
        .readFileSync(path.join(root, 'net/egress/ruleset-before.nft'), 'utf8')
        .replace(/counter packets \d+ bytes \d+/g, 'counter'),
    ).toBe(rulesBefore);
    expect(fs.readFileSync(path.join(root, 'net/egress/ruleset-applied.nft'), 'utf8')).toContain(
      `table inet cirt-egress-${caseId} {`,
    );
    const custody = fs
      .readFileSync(path.join(root, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const step = custody.find((x) => x.action === 'contain:restrict-egress' && x.result === 'ok');
    expect(step.artifacts.map((a: { path: string }) => a.path)).toEqual(
      expect.arrayContaining([
        'net/egress/ruleset-before.nft',
        'net/egress/ruleset-applied.nft',
        'containment/restrict-egress.json',
      ]),
    );
    expect(step.details.blockedProbe.droppedByRule).toBeGreaterThan(0);
    // The C2 session was among the flows conntrack listed before the cut.
    expect(fs.readFileSync(path.join(root, 'net/egress/conntrack-before.txt'), 'utf8')).toContain(
      `dst=${lab.attacker.ip} sport=`,
    );
    expect(step.details.outboundFlowsCut).toBeGreaterThanOrEqual(1);
  });

  test('after the step: the beacon stops, new connections to the attacker and a peer fail, the allowed one and the published port work', async () => {
    const a = await readC2Bytes(docker, lab.victim.id);
    await sleep(2_500);
    expect(await readC2Bytes(docker, lab.victim.id)).toBe(a);
    expect(await probeFromNetns(pid, lab.attacker.ip, lab.c2Port, 500)).toBe('timeout');
    expect(await probeFromNetns(pid, peer.ip, 80, 500)).toBe('timeout');
    expect(await probeFromNetns(pid, allowed.ip, 80, 1_000)).toBe('connected');
    expect(await httpStatus(lab.victim.hostPort)).toBe(200);
    const ps = await runCli(['ps']);
    const line = ps.out.split('\n').find((l) => l.startsWith(lab.victim.name));
    expect(line).toMatch(/egress restricted \(case eg1\)$/);
  });

  test('re-applying is a noop that says so; a second case adds its own table, kept while the first holds', async () => {
    const pb = path.join(dir, 'again.yaml');
    fs.writeFileSync(pb, 'name: again\nsteps:\n  - uses: contain:restrict-egress\n');
    const run = () =>
      runCli([
        '--cases-dir',
        cases,
        'run',
        pb,
        '--target',
        lab.victim.name,
        '--case',
        'eg2',
        '--yes',
      ]);
    expect((await run()).out).toMatch(/restrict-egress \(contain:restrict-egress\) ok/);
    const again = await run();
    expect(again.out).toMatch(
      /noop: egress of .* is already restricted by this case \(nftables table cirt-egress-eg2/,
    );
    expect(again.code).toBe(0);
    const rel = await runCli(['--cases-dir', cases, 'release', '--case', 'eg2', '--yes']);
    expect(rel.out).toMatch(/restrict-egress: kept by case eg1/);
    expect(await probeFromNetns(pid, lab.attacker.ip, lab.c2Port, 500)).toBe('timeout');
  });

  test('release deletes exactly what cirt added: the rules are as before, and connections out work again', async () => {
    const r = await runCli(['--cases-dir', cases, 'release', '--case', caseId, '--yes']);
    expect(r.out).toMatch(/restrict-egress: deleted nftables table cirt-egress-eg1/);
    expect(r.code).toBe(0);
    expect(rules(pid)).toBe(rulesBefore);
    const ps = JSON.parse((await runCli(['ps', '--json'])).out) as {
      id: string;
      egress: string[];
    }[];
    expect(ps.find((x) => x.id === lab.victim.id)?.egress).toEqual([]);
    // The attacker's nc still holds the old session, so its port refuses: an answer all the same.
    expect(['connected', 'refused']).toContain(
      await probeFromNetns(pid, lab.attacker.ip, lab.c2Port, 1_000),
    );
    expect(await probeFromNetns(pid, peer.ip, 80, 1_000)).toBe('connected');
    expect(await httpStatus(lab.victim.hostPort)).toBe(200);
  });

  test('the victim never saw an exec from cirt', async () => {
    const raw = (await docker.getEvents({
      since: stepStart,
      until: Math.ceil(Date.now() / 1000) + 1,
      filters: { container: [lab.victim.id] },
    })) as unknown as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of raw) text += chunk.toString();
    expect(text).not.toMatch(/exec_create/);
  });
});
