import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

/** Host pids of the container's processes whose argv is exactly `argv` (read from the host's /proc). */
function hostPidsOf(initPid: number, argv: string[]): number[] {
  const ns = fs.readlinkSync(`/proc/${initPid}/ns/pid`);
  const want = `${argv.join('\0')}\0`;
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/ns/pid`) !== ns) continue;
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'latin1') === want) out.push(Number(name));
    } catch {
      // processes come and go
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('contain:kill-process kills exactly the process an alert names (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('killproc');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-killproc-'));
  const cases = path.join(dir, 'cases');
  let id = '';
  let initPid = 0;
  let since = 0;

  const run = (playbook: string, caseId: string, extra = ['--target', id]) =>
    runCli(['--cases-dir', cases, 'run', playbook, '--case', caseId, '--yes', ...extra]);
  const playbook = (name: string, withLines: string[]): string => {
    const file = path.join(dir, `${name}.yaml`);
    fs.writeFileSync(
      file,
      [
        `name: ${name}`,
        'steps:',
        '  - id: kill',
        '    uses: contain:kill-process',
        '    with:',
        ...withLines.map((l) => `      ${l}`),
        '',
      ].join('\n'),
    );
    return file;
  };

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    const c = await docker.createContainer({
      name: `${prefix}-victim`,
      Image: LAB_IMAGE,
      Env: ['CIRT_MARK=kp-environ-marker'],
      Cmd: [
        'sh',
        '-c',
        'sleep 1001 & sleep 1002 & sleep 1003 & sleep 1004 & tail -f /dev/null & wait',
      ],
      Labels: { 'cirt.lab.prefix': prefix },
    });
    await c.start();
    id = c.id;
    initPid = (await c.inspect()).State.Pid;
    await waitFor('four sleeps', async () =>
      [1001, 1002, 1003, 1004].every((n) => hostPidsOf(initPid, ['sleep', String(n)]).length === 1),
    );
    since = Math.floor(Date.now() / 1000);
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("Given a Falco alert whose proc.pid is one sleep's host pid, When the playbook kills that pid, Then only it dies, its /proc state and exe are in the case, and a re-run is a noop", async () => {
    const [target] = hostPidsOf(initPid, ['sleep', '1001']);
    const others = [1002, 1003, 1004].map((n) => hostPidsOf(initPid, ['sleep', String(n)])[0]);
    const alert = {
      rule: 'Suspicious process',
      priority: 'Critical',
      time: new Date().toISOString(),
      output: 'suspicious sleep',
      output_fields: {
        'container.id': id.slice(0, 12),
        'container.name': `${prefix}-victim`,
        'proc.pid': target,
        'proc.cmdline': 'sleep 1001',
      },
    };
    fs.writeFileSync(path.join(dir, 'alert.json'), JSON.stringify(alert));
    // The playbook layer has no `${proc.pid}` substitution yet: the alert's value is written in as a plain param.
    const pb = playbook('kill-alert', [`hostPid: ${alert.output_fields['proc.pid']}`]);
    const r = await run(pb, 'k1', ['--alert', path.join(dir, 'alert.json')]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/kill \(contain:kill-process\) ok: sent SIGKILL to sleep \(host pid \d+/);
    expect(alive(target)).toBe(false);
    for (const o of others) expect(alive(o)).toBe(true);
    expect((await docker.getContainer(id).inspect()).State.Running).toBe(true);

    const root = path.join(cases, 'k1');
    const cap = path.join(root, 'proc', 'kill', String(target));
    expect(fs.readFileSync(path.join(cap, 'cmdline'), 'latin1')).toBe('sleep\u00001001\u0000');
    expect(fs.readFileSync(path.join(cap, 'environ'), 'latin1')).toContain(
      'CIRT_MARK=kp-environ-marker',
    );
    expect(fs.readFileSync(path.join(cap, 'status'), 'utf8')).toMatch(/^Name:\s+sleep$/m);
    expect(fs.readFileSync(path.join(cap, 'maps'), 'utf8')).toMatch(/busybox/);
    expect(JSON.parse(fs.readFileSync(path.join(cap, 'fds.json'), 'utf8')).length).toBeGreaterThan(
      0,
    );
    const busybox = createHash('sha256').update(fs.readFileSync('/usr/bin/busybox')).digest('hex');
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
    const exe = manifest.artifacts.find(
      (a: { path: string }) => a.path === `proc/kill/${target}/exe`,
    );
    expect(exe.sha256).toBe(busybox);
    const custody = fs
      .readFileSync(path.join(root, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const step = custody.find(
      (x) => x.action === 'contain:kill-process' && x.result !== 'approved',
    );
    expect(step.result).toBe('ok');
    expect(step.artifacts.map((a: { path: string }) => a.path)).toEqual(
      expect.arrayContaining([`proc/kill/${target}/exe`, 'containment/kill-process.json']),
    );

    const again = await run(pb, 'k1');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/kill \(contain:kill-process\) noop/);
  });

  test('Given a comm that names three processes, Then nothing is signalled unless all: true', async () => {
    const before = [1002, 1003, 1004].map((n) => hostPidsOf(initPid, ['sleep', String(n)])[0]);
    const r = await run(playbook('kill-comm', ['comm: sleep']), 'k2');
    expect(r.err).toBe('');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/names 3 processes[\s\S]*nothing was signalled/);
    for (const o of before) expect(alive(o)).toBe(true);
  });

  test('Given a host pid outside the container, Then it is refused and that process lives', async () => {
    const r = await run(playbook('kill-host', [`hostPid: ${process.pid}`]), 'k3');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/is not a process of container/);
  });

  test('Given a paused container, Then SIGKILL is sent but the step fails saying it dies on thaw; after unpause it is gone', async () => {
    const [target] = hostPidsOf(initPid, ['sleep', '1002']);
    await docker.getContainer(id).pause();
    try {
      const nspid = /^NSpid:.*\s(\d+)$/m.exec(
        fs.readFileSync(`/proc/${target}/status`, 'utf8'),
      )![1];
      const r = await run(playbook('kill-paused', [`pid: ${nspid}`, 'waitMs: 300']), 'k4');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/container is paused: a frozen process cannot die until it is thawed/);
      expect(alive(target)).toBe(true);
    } finally {
      await docker.getContainer(id).unpause();
    }
    await waitFor('the frozen sleep to die on thaw', async () => !alive(target), 5_000, 20);
    expect(alive(hostPidsOf(initPid, ['sleep', '1003'])[0])).toBe(true);
  });

  test('no exec was made in the container', async () => {
    const until = Math.ceil(Date.now() / 1000) + 1;
    const raw = (await docker.getEvents({
      since,
      until,
      filters: { container: [id] },
    })) as unknown as NodeJS.ReadableStream;
    let text = '';
    for await (const chunk of raw) text += chunk.toString();
    expect(text).toMatch(/"pause"/);
    expect(text).not.toMatch(/exec_create/);
  });

  test('Given comm with all: true, every match dies and the rest (the shell) keeps running', async () => {
    const sleeps = [1003, 1004].map((n) => hostPidsOf(initPid, ['sleep', String(n)])[0]);
    const r = await run(playbook('kill-all', ['comm: sleep', 'all: true']), 'k6');
    expect(r.code).toBe(0);
    for (const p of sleeps) expect(alive(p)).toBe(false);
    expect(alive(initPid)).toBe(true);
    expect(alive(hostPidsOf(initPid, ['tail', '-f', '/dev/null'])[0])).toBe(true);
  });

  test('Given the container stopped, a re-run is a noop: no process is left to kill', async () => {
    await docker.getContainer(id).kill();
    const r = await run(playbook('kill-stopped', ['comm: sleep', 'all: true']), 'k5');
    expect(r.out).toMatch(
      /kill \(contain:kill-process\) noop: .* is exited: it has no process to signal/,
    );
    expect(r.code).toBe(0);
  });
});
