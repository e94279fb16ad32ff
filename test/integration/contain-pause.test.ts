import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import {
  cleanupPrefix,
  httpStatus,
  startPlainVictim,
  waitFor,
  type LabContainer,
} from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Times (ms since epoch) of the log lines the engine holds, from `timestamps=1` (RFC3339Nano prefix). */
async function logTimes(docker: Docker, id: string): Promise<number[]> {
  const buf = (await docker
    .getContainer(id)
    .logs({ stdout: true, stderr: true, timestamps: true })) as unknown as Buffer;
  const lines: string[] = [];
  // Non-TTY logs are framed: 8-byte header {stream, 0, 0, 0, size uint32 BE}.
  for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) {
    lines.push(
      ...buf
        .subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4))
        .toString()
        .split('\n')
        .filter(Boolean),
    );
  }
  return lines.map((l) => Date.parse(l.slice(0, l.indexOf(' ')))).filter((t) => !Number.isNaN(t));
}

const linesBetween = (times: number[], from: number, to: number) =>
  times.filter((t) => t > from && t <= to).length;

describe('contain playbook on a running container: pause freezes, release resumes (real engine)', () => {
  let docker: Docker;
  let victim: LabContainer & { hostPort: number };
  const prefix = uniquePrefix('pause');
  const quarantine = `${prefix}-quarantine`;
  const caseId = `${prefix}-case`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-pause-'));
  const playbook = path.join(dir, 'contain.yaml');
  let pausedAt = 0;

  beforeAll(async () => {
    docker = await requireEngine();
    victim = await startPlainVictim(docker, prefix);
    await docker
      .getContainer(victim.id)
      .update({ RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 } });
    // The shipped contain playbook's steps, with a quarantine network of this test's own.
    const shipped = fs.readFileSync(path.join(process.cwd(), 'playbooks', 'contain.yaml'), 'utf8');
    expect(shipped).toContain('network: cirt-quarantine');
    fs.writeFileSync(
      playbook,
      shipped.replace('network: cirt-quarantine', `network: ${quarantine}`),
    );
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the web container logs a line every half second while it runs', async () => {
    const t = Date.now();
    await sleep(2_000);
    expect(linesBetween(await logTimes(docker, victim.id), t, Date.now())).toBeGreaterThanOrEqual(
      2,
    );
  });

  test('contain pauses first, isolates the paused container, sets restart policy no', async () => {
    const r = await runCli([
      '--cases-dir',
      dir,
      'run',
      playbook,
      '--target',
      victim.name,
      '--case',
      caseId,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /pause \(contain:pause\) ok[\s\S]*isolate \(contain:network-isolate\) ok[\s\S]*no-restart \(contain:restart-policy\) ok/,
    );
    pausedAt = Date.now();
    const info = await docker.getContainer(victim.id).inspect();
    expect(info.State.Paused).toBe(true);
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual([quarantine]);
    expect(info.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(await httpStatus(victim.hostPort)).toBe('refused');
  });

  test('no new log lines while paused', async () => {
    await sleep(2_500);
    const times = await logTimes(docker, victim.id);
    expect(times.length).toBeGreaterThan(0);
    expect(linesBetween(times, pausedAt, Date.now())).toBe(0);
  });

  test('release unpauses (logging resumes), restores the restart policy and the default bridge', async () => {
    const r = await runCli(['--cases-dir', dir, 'release', '--yes', '--case', caseId]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✔ unpause: unpaused/);
    const releasedAt = Date.now();
    await waitFor(
      'a log line after release',
      async () => linesBetween(await logTimes(docker, victim.id), releasedAt, Date.now()) > 0,
      5_000,
      250,
    );

    const info = await docker.getContainer(victim.id).inspect();
    expect(info.State.Status).toBe('running');
    expect(info.HostConfig.RestartPolicy).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect(Object.keys(info.NetworkSettings.Networks)).toEqual(['bridge']);
    const port = Number(info.NetworkSettings.Ports['80/tcp']?.[0]?.HostPort);
    await waitFor(
      `port ${port} to answer after release`,
      async () => (await httpStatus(port, 1_000)) === 200,
      10_000,
    );
  });
});
