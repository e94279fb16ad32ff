import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { probeFromNetns } from '../../src/host/netns.js';
import { hostPid, httpStatus, readC2Bytes, stageCompromise, type Lab } from '../fixtures/lab.js';
import { ensureNftImage, NFT_IMAGE } from '../fixtures/nft-image.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rules = (pid: number): string =>
  execFileSync('nsenter', ['-t', String(pid), '-n', 'nft', 'list', 'ruleset'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  }).replace(/counter packets \d+ bytes \d+/g, 'counter');

describe('contain:restrict-egress on a remote engine goes through a helper container (real engine over TCP)', () => {
  let docker: Docker;
  let lab: Lab;
  let pid = 0;
  let rulesBefore = '';
  let proxy: net.Server | undefined;
  const open = new Set<net.Socket>();
  let remoteEnv: NodeJS.ProcessEnv = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-egress-remote-'));
  const cases = path.join(dir, 'cases');
  const pb = (name: string, lines: string[]): string => {
    const file = path.join(dir, `${name}.yaml`);
    const body = lines.length ? ['    with:', ...lines.map((l) => `      ${l}`)] : [];
    fs.writeFileSync(
      file,
      [`name: ${name}`, 'steps:', '  - uses: contain:restrict-egress', ...body, ''].join('\n'),
    );
    return file;
  };

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureNftImage(docker);
    lab = await stageCompromise(docker, { prefix: uniquePrefix('egress-remote') });
    pid = await hostPid(docker, lab.victim.id);
    rulesBefore = rules(pid);
    // The same engine over TCP is a remote engine to cirt: no host /proc.
    proxy = net.createServer((sock) => {
      const up = net.connect('/var/run/docker.sock');
      open.add(sock).add(up);
      sock.pipe(up).on('error', () => sock.destroy());
      up.pipe(sock).on('error', () => up.destroy());
      sock.on('error', () => up.destroy());
      up.on('error', () => sock.destroy());
    });
    await new Promise<void>((resolve) => proxy!.listen(0, '127.0.0.1', resolve));
    remoteEnv = {
      ...process.env,
      DOCKER_HOST: `tcp://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    };
  }, 90_000);

  afterAll(async () => {
    for (const s of open) s.destroy();
    proxy?.close();
    if (lab) await lab.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without helperImage the run is refused before anything is touched, saying why', async () => {
    const r = await runCli(
      ['--cases-dir', cases, 'run', pb('plain', []), '--target', lab.victim.name, '--yes'],
      { env: remoteEnv },
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /needs host-proc, which the engine at tcp:\/\/127\.0\.0\.1:\d+ cannot do/,
    );
    expect(rules(pid)).toBe(rulesBefore);
  });

  test('with helperImage the helper joins the namespace, the beacon stops, the port serves; release deletes the table', async () => {
    const r = await runCli(
      [
        '--cases-dir',
        cases,
        'run',
        pb('helper', [`helperImage: ${NFT_IMAGE}`]),
        '--target',
        lab.victim.name,
        '--case',
        'r1',
        '--yes',
      ],
      { env: remoteEnv },
    );
    expect(r.out).toMatch(/ok: egress of .* restricted in \d+ ms .*blocked; 80\/tcp still answers/);
    expect(r.code).toBe(0);
    const a = await readC2Bytes(docker, lab.victim.id);
    await sleep(2_500);
    expect(await readC2Bytes(docker, lab.victim.id)).toBe(a);
    expect(await probeFromNetns(pid, lab.attacker.ip, lab.c2Port, 500)).toBe('timeout');
    expect(await httpStatus(lab.victim.hostPort)).toBe(200);

    const rel = await runCli(['--cases-dir', cases, 'release', '--case', 'r1', '--yes'], {
      env: remoteEnv,
    });
    expect(rel.out).toMatch(/restrict-egress: deleted nftables table cirt-egress-r1/);
    expect(rel.code).toBe(0);
    expect(rules(pid)).toBe(rulesBefore);
  });
});
