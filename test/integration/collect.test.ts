import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import type { HostProcess } from '../../src/host/proc.js';
import type { SocketEntry } from '../../src/host/procnet.js';
import { LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, stageCompromise, waitFor, type Lab } from '../fixtures/lab.js';
import { checkManifest, readCase, readJson, runSteps } from '../helpers/case-check.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

const TS_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z /;
const COLLECT_ALL = `  - uses: collect:events
  - uses: collect:inspect
  - uses: collect:logs
  - uses: collect:processes
  - uses: collect:network
    with: { phase: host }
  - uses: collect:network
    with: { phase: helper, via: helper }
  - uses: collect:image-commit
`;
const EXPECTED = [
  'container/events.jsonl',
  'container/inspect.json',
  'container/image-inspect.json',
  'container/image-history.json',
  'container/commit.json',
  'logs/stdout.log',
  'logs/stderr.log',
  'logs/json-file.log',
  'proc/top.json',
  'proc/processes.json',
  'proc/raw.jsonl',
  ...['host', 'helper'].flatMap((p) => [
    ...['sockets', 'interfaces', 'routes', 'arp', 'collection'].map((f) => `net/${p}/${f}.json`),
    ...['tcp', 'tcp6', 'udp', 'udp6', 'unix', 'dev', 'route', 'arp', 'fib_trie', 'if_inet6'].map(
      (f) => `net/${p}/raw/${f}`,
    ),
  ]),
];

describe('collection actions against a staged compromise', () => {
  let docker: Docker;
  const prefix = uniquePrefix('collect');
  let lab: Lab;
  let dir: string;

  beforeAll(async () => {
    docker = await requireEngine();
    dir = await mkdtemp(join(tmpdir(), 'cirt-collect-'));
    lab = await stageCompromise(docker, { prefix });
    // Every kind of escape sequence the victim logs appears within its first four lines.
    await waitFor('the victim to log 4 requests', async () =>
      ((await docker.getContainer(lab.victim.id).logs({ stdout: true, stderr: true })) as Buffer)
        .toString('latin1')
        .includes('req 4 '),
    );
  });

  afterAll(async () => {
    if (!docker) return;
    await cleanupPrefix(docker, prefix);
    const evidence = (await docker.listImages()).filter((i) =>
      (i.RepoTags ?? []).some((t) => t.startsWith(`cirt-evidence/${prefix}`)),
    );
    for (const i of evidence)
      await docker
        .getImage(i.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** The C2 connection as the network artifact shows it, plus the processes.json entry of nc. */
  async function c2Socket(caseDir: string, phase: string): Promise<SocketEntry | undefined> {
    const sockets = await readJson<SocketEntry[]>(caseDir, `net/${phase}/sockets.json`);
    return sockets.find(
      (s) =>
        s.proto === 'tcp' &&
        s.state === 'ESTABLISHED' &&
        s.remoteAddress === lab.attacker.ip &&
        s.remotePort === lab.c2Port,
    );
  }

  async function assertCollected(caseDir: string, runStarted: number): Promise<void> {
    const { entries, mismatches } = await checkManifest(caseDir);
    expect(mismatches).toEqual([]);
    const paths = new Set(entries.map((e) => e.path));
    expect(EXPECTED.filter((p) => !paths.has(p))).toEqual([]);

    // Network: the C2 connection, owned by nc, read both ways.
    const procs = await readJson<HostProcess[]>(caseDir, 'proc/processes.json');
    const nc = procs.find((p) => p.comm === 'nc' && p.cmdline.includes(lab.attacker.ip));
    expect(nc).toBeDefined();
    const viaHost = await c2Socket(caseDir, 'host');
    expect(viaHost).toMatchObject({ processes: ['nc'], pids: [nc!.pid] });
    expect(nc!.socketInodes).toContain(viaHost!.inode);
    const viaHelper = await c2Socket(caseDir, 'helper');
    // Through the helper, owners are the container's own pids.
    expect(viaHelper).toMatchObject({
      processes: ['nc'],
      pids: [nc!.nspid],
      inode: viaHost!.inode,
      localPort: viaHost!.localPort,
    });
    const helperMeta = await readJson<{ via: string; helper: { id: string } }>(
      caseDir,
      'net/helper/collection.json',
    );
    expect(helperMeta.via).toBe('helper');
    expect(
      await docker.listContainers({
        all: true,
        filters: { label: [`cirt.target=${lab.victim.id}`] },
      }),
    ).toEqual([]);

    // Processes: nc and the never-ending sleep that feeds it, with absolute start times of this lab.
    const sleeper = procs.find((p) => p.comm === 'sleep' && p.cmdline[1] === '2147483647');
    for (const p of [nc!, sleeper!]) {
      expect(p).toBeDefined();
      const started = Date.parse(p.startTime);
      expect(started).toBeGreaterThan(runStarted - 5 * 60_000);
      expect(started).toBeLessThanOrEqual(Date.now() + 1000);
      expect(p.exe).toBe('/bin/busybox');
    }
    const raw = (await readFile(join(caseDir, 'proc/raw.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { pid: number; cmdlineB64: string });
    expect(Buffer.from(raw.find((r) => r.pid === nc!.pid)!.cmdlineB64, 'base64').toString()).toBe(
      `${nc!.cmdline.join('\0')}\0`,
    );

    // Logs: every line keeps the engine's time, and escape sequences are kept byte for byte.
    const stdout = await readFile(join(caseDir, 'logs/stdout.log'), 'latin1');
    const lines = stdout.split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(3);
    expect(lines.filter((l) => !TS_LINE.test(l))).toEqual([]);
    expect(stdout).toContain('\x1b[1;31mERROR\x1b[0m');
    expect(stdout).toContain('\x1b]0;pwned\x07');
    expect(stdout).toContain('\x1b]8;;http://evil.example/x\x1b\\docs');
    const stderr = await readFile(join(caseDir, 'logs/stderr.log'), 'utf8');
    expect(stderr).toMatch(/^\S+Z httpd: serving \/var\/www on :80$/m);
    const jsonFile = (await readFile(join(caseDir, 'logs/json-file.log'), 'utf8'))
      .trim()
      .split('\n');
    expect(JSON.parse(jsonFile[0])).toHaveProperty('log');

    // Events: the compromise's execs, raw as the engine sent them.
    const events = (await readFile(join(caseDir, 'container/events.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { Action: string });
    expect(
      events.some(
        (e) =>
          e.Action.startsWith('exec_start') &&
          e.Action.includes(`nc ${lab.attacker.ip} ${lab.c2Port}`),
      ),
    ).toBe(true);
    expect(
      events.some((e) => e.Action.startsWith('exec_create') && e.Action.includes(lab.dropperPath)),
    ).toBe(true);

    // Inspect and commit.
    const info = await readCase(caseDir);
    expect(info.target.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$|@sha256:/);
    const commit = await readJson<{ imageId: string; tag: string }>(
      caseDir,
      'container/commit.json',
    );
    expect((await docker.getImage(commit.tag).inspect()).Id).toBe(commit.imageId);
  }

  test('a running victim: every artifact hashed, C2 socket with its owner, timestamped logs, events, processes', async () => {
    const started = Date.now();
    const run = await runSteps(
      dir,
      'collect-running',
      COLLECT_ALL,
      lab.victim.name,
      `${prefix}-running`,
    );
    expect(run.events.filter((e) => e.type === 'step:end' && e.status !== 'ok')).toEqual([]);
    expect(run.exitCode).toBe(0);
    await assertCollected(run.caseDir, started);
  });

  test('a paused victim: the same evidence, and it stays paused', async () => {
    const started = Date.now();
    const run = await runSteps(
      dir,
      'collect-paused',
      `  - uses: contain:pause\n${COLLECT_ALL}`,
      lab.victim.name,
      `${prefix}-paused`,
    );
    expect(run.events.filter((e) => e.type === 'step:end' && e.status !== 'ok')).toEqual([]);
    expect(run.exitCode).toBe(0);
    expect((await docker.getContainer(lab.victim.id).inspect()).State.Paused).toBe(true);
    await assertCollected(run.caseDir, started);
    const meta = await readJson<{ paused: boolean }>(run.caseDir, 'net/helper/collection.json');
    expect(meta.paused).toBe(true);
    await docker.getContainer(lab.victim.id).unpause();
  });

  test('a TTY container: one raw tty.log with timestamps', async () => {
    const name = `${prefix}-tty`;
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Tty: true,
      Cmd: [
        'sh',
        '-c',
        'n=0; while true; do n=$((n+1)); printf "tty line %d \\033[32mgreen\\033[0m\\n" $n; sleep 0.2; done',
      ],
      Labels: { 'cirt.lab.prefix': prefix },
    });
    await c.start();
    await waitFor('three TTY lines', async () =>
      ((await c.logs({ stdout: true })) as Buffer).toString().includes('tty line 3'),
    );
    const run = await runSteps(
      dir,
      'collect-tty',
      '  - uses: collect:logs\n    with: { tail: 50 }\n',
      name,
      `${prefix}-tty`,
    );
    expect(run.exitCode).toBe(0);
    const { entries, mismatches } = await checkManifest(run.caseDir);
    expect(mismatches).toEqual([]);
    expect(entries.map((e) => e.path).filter((p) => p.startsWith('logs/'))).toEqual([
      'logs/tty.log',
      'logs/json-file.log',
    ]);
    const lines = (await readFile(join(run.caseDir, 'logs/tty.log'), 'latin1'))
      .split('\n')
      .filter(Boolean);
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeLessThanOrEqual(50);

    for (const l of lines) expect(l).toMatch(/^\S+Z tty line \d+ \x1b\[32mgreen\x1b\[0m\r$/);
  });

  test('hostile logs: a 1 MB line and escape sequences on both streams arrive byte for byte', async () => {
    const name = `${prefix}-biglog`;
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: [
        'sh',
        '-c',
        'head -c 1048576 /dev/zero | tr "\\0" A; echo; printf "\\033]0;x\\007err\\n" >&2; echo end; sleep 600',
      ],
      Labels: { 'cirt.lab.prefix': prefix },
    });
    await c.start();
    await waitFor('the big line to be logged', async () =>
      ((await c.logs({ stdout: true })) as Buffer).toString('latin1').includes('end'),
    );
    const run = await runSteps(
      dir,
      'collect-biglog',
      '  - uses: collect:logs\n',
      name,
      `${prefix}-biglog`,
    );
    expect(run.exitCode).toBe(0);
    expect((await checkManifest(run.caseDir)).mismatches).toEqual([]);
    const out = await readFile(join(run.caseDir, 'logs/stdout.log'), 'latin1');
    const lines = out.split('\n').slice(0, -1);
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(l).toMatch(TS_LINE);
    // The engine stores a long line as 16 KiB partial messages, each with its own time prefix.
    expect(out.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z /g, '')).toBe(`${'A'.repeat(1048576)}\nend\n`);

    expect(await readFile(join(run.caseDir, 'logs/stderr.log'), 'latin1')).toMatch(
      /^\S+Z \x1b\]0;x\x07err\n$/,
    );
  });

  test('clear outcomes: a stopped container has no processes (does not apply); a missing helper image is named', async () => {
    const stopped = await docker.createContainer({
      name: `${prefix}-stopped`,
      Image: LAB_IMAGE,
      Cmd: ['true'],
      Labels: { 'cirt.lab.prefix': prefix },
    });
    const run = await runSteps(
      dir,
      'collect-stopped',
      '  - uses: collect:processes\n    continue-on-error: true\n  - uses: collect:inspect\n',
      `${prefix}-stopped`,
      `${prefix}-stopped`,
    );
    // It has no processes: the step does not apply (docs/statuses.md), which is not a failure.
    expect(run.exitCode).toBe(0);
    const failed = run.events.find((e) => e.type === 'step:end' && e.status === 'not-applicable');
    expect(String(failed?.message)).toMatch(
      new RegExp(
        `${prefix}-stopped is created: it has no processes, so there are no processes to read`,
      ),
    );
    expect(
      run.events.find((e) => e.type === 'step:end' && e.uses === 'collect:inspect')?.status,
    ).toBe('ok');
    await stopped.remove({ force: true });

    const missing = await runSteps(
      dir,
      'collect-noimage',
      '  - uses: collect:network\n    with: { via: helper, helperImage: "cirt-t-no-such-image:0" }\n',
      lab.victim.name,
      `${prefix}-noimage`,
    );
    expect(missing.exitCode).toBe(1);
    const msg = String(missing.events.find((e) => e.type === 'step:end')?.message);
    expect(msg).toContain('cirt-t-no-such-image:0');
    expect(msg).toContain('helperImage');
    const info = await readCase(missing.caseDir);
    expect(info.incomplete?.[0]?.step).toBe('network');
  });
});
