import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain, type CustodyRecord } from '../../src/evidence/custody.js';
import { CASE_ID } from '../../src/evidence/case-store.js';
import type { ServeEvent } from '../../src/serve/dispatch.js';
import { startService, type Service } from '../../src/serve/service.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const TOKEN = 'test-token-0123456789abcdef';

interface Reply {
  status: number;
  body: string;
  ms: number;
}

function post(
  url: string,
  body: string | Buffer,
  token: string | null = TOKEN,
  pathName = '/',
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${pathName}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        agent: false,
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - t0 }),
        );
      },
    );
    // A server that answers 413/401 and closes may reset a client still sending: the answer was read.
    req.on('error', (err) =>
      err.message.includes('EPIPE') || err.message.includes('ECONNRESET') ? undefined : reject(err),
    );
    req.end(body);
  });
}

function get(url: string, pathName: string, token: string | null = TOKEN): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(
        `${url}${pathName}`,
        { headers: token ? { authorization: `Bearer ${token}` } : {}, agent: false },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: text, ms: performance.now() - t0 }),
          );
        },
      )
      .on('error', reject);
  });
}

const falco = (
  id: string,
  name: string,
  rule = 'Terminal shell in container',
  extra: Record<string, unknown> = {},
): string =>
  JSON.stringify({
    rule,
    priority: 'Critical',
    time: new Date().toISOString(),
    output: `A shell was spawned in ${name}`,
    source: 'syscall',
    tags: ['container', 'shell', 'mitre_execution'],
    output_fields: {
      'container.id': id.slice(0, 12),
      'container.name': name,
      'proc.pid': 4242,
      'proc.cmdline': 'sh -i',
      ...extra,
    },
  });

function caseFolders(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => CASE_ID.test(n) && fs.statSync(path.join(dir, n)).isDirectory());
}

function custody(caseDir: string): CustodyRecord[] {
  const { records, problems } = checkChain(
    fs.readFileSync(path.join(caseDir, 'custody.jsonl'), 'utf8'),
  );
  expect(problems).toEqual([]);
  return records;
}

describe('cirt serve (real engine, real HTTP on loopback)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('serve');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-serve-'));
  const cases = path.join(dir, 'cases');
  const env = { ...process.env, CIRT_LOCK_DIR: path.join(dir, 'locks') };
  const containers: { id: string; name: string }[] = [];
  let service: Service;
  const events: ServeEvent[] = [];
  const log: string[] = [];
  const configFile = path.join(dir, 'serve.yaml');
  const config = (extra = ''): string => `listen: 127.0.0.1:0
token_file: token
cases_dir: cases
journal:
  dir: journal
snapshots:
  interval: 2s
concurrency: 3
limits:
  body: 8KiB
approvals:
  timeout: 4s
  default: reject
rules:
  - name: ask-first
    match:
      rule: Write below etc
    playbook: ask.yaml
  - name: dry
    match:
      rule: [Read sensitive file untrusted]
      priority: ">=Warning"
    playbook: inspect.yaml
    dry_run: true
  - name: shells
    match:
      rule: [Terminal shell in container, Run shell untrusted]
      priority: ">=Critical"
      tags: [[shell, container], [mitre_persistence]]
      output_fields:
        proc.cmdline: { not: "sh -c healthcheck" }
    playbook: inspect.yaml
    dedup: 60s
${extra}`;

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    fs.mkdirSync(env.CIRT_LOCK_DIR, { recursive: true });
    fs.writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`);
    fs.writeFileSync(
      path.join(dir, 'inspect.yaml'),
      'name: inspect-only\ndescription: read-only\nsteps:\n  - uses: collect:inspect\n',
    );
    fs.writeFileSync(
      path.join(dir, 'ask.yaml'),
      'name: ask\nsteps:\n  - id: look\n    uses: collect:inspect\n    confirm: true\n',
    );
    fs.writeFileSync(configFile, config());
    for (let i = 0; i < 14; i++) {
      const c = await docker.createContainer({
        name: `${prefix}-c${i}`,
        Image: LAB_IMAGE,
        Cmd: ['sleep', '600'],
        Labels: { 'cirt.lab.prefix': prefix },
        // No network: these runs only read, and the engine's default bridge may be busy with other tests.
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      containers.push({ id: c.id, name: `${prefix}-c${i}` });
    }
    service = await startService({
      configFile,
      env: { cwd: dir, env },
      log: (l) => log.push(l),
      onEvent: (e) => events.push(e),
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Given no token or a wrong one, Then 401 and nothing is recorded; an oversized body is 413, a non-alert 400, and still nothing is recorded', async () => {
    const body = falco(containers[0].id, containers[0].name);
    expect((await post(service.url, body, null)).status).toBe(401);
    expect((await post(service.url, body, 'wrong-token-0123456789abcdef')).status).toBe(401);
    expect((await post(service.url, body, `${TOKEN}x`)).status).toBe(401);
    expect((await get(service.url, '/metrics', null)).status).toBe(401);
    const big = falco(containers[0].id, containers[0].name, 'Terminal shell in container', {
      pad: 'x'.repeat(9000),
    });
    expect((await post(service.url, big)).status).toBe(413);
    expect((await post(service.url, '{"rule": "x", "output_fields": {')).status).toBe(400);
    expect((await post(service.url, '{"hello": 1}')).status).toBe(400);
    expect((await get(service.url, '/healthz', null)).status).toBe(200);
    await service.idle();
    expect(caseFolders(cases)).toEqual([]);
    expect(fs.readdirSync(path.join(cases, '.serve', 'alerts'))).toEqual([]);
    const metrics = (await get(service.url, '/metrics')).body;
    expect(metrics).toMatch(/^cirt_alerts_received_total 0$/m);
    expect(metrics).toMatch(/^cirt_alerts_refused_total\{reason="unauthorized"\} 4$/m);
    expect(metrics).toMatch(/^cirt_alerts_refused_total\{reason="too-large"\} 1$/m);
    expect(metrics).toMatch(/^cirt_alerts_refused_total\{reason="bad-alert"\} 2$/m);
    expect(events).toEqual([]);
  });

  test('Given a burst of 100 alerts across 10 containers, Then each gets 202 with an id, and there are exactly 10 cases, each holding its 10 alerts (1 run + 9 added as evidence)', async () => {
    const bodies = containers
      .slice(0, 10)
      .flatMap((c) => Array.from({ length: 10 }, () => falco(c.id, c.name)));
    const replies = await Promise.all(bodies.map((b) => post(service.url, b)));
    expect(replies.map((r) => r.status)).toEqual(bodies.map(() => 202));
    const ids = replies.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(new Set(ids).size).toBe(100);
    await service.idle();
    const folders = caseFolders(cases);
    expect(folders).toHaveLength(10);
    const targets = new Set<string>();
    for (const f of folders) {
      const root = path.join(cases, f);
      const info = JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8'));
      targets.add(info.target.id);
      const records = custody(root);
      const names = fs
        .readdirSync(path.join(root, 'alert'))
        .map(
          (k) =>
            JSON.parse(fs.readFileSync(path.join(root, 'alert', k), 'utf8')).output_fields[
              'container.name'
            ],
        );
      expect(new Set(names)).toEqual(new Set([info.target.name]));
      expect(records.filter((r) => r.action === 'alert:received')).toHaveLength(1);
      expect(records.filter((r) => r.action === 'alert:deduplicated')).toHaveLength(9);
      expect(records.filter((r) => r.action === 'run:start')).toHaveLength(1);
      const kept = fs.readdirSync(path.join(root, 'alert'));
      expect(kept).toHaveLength(10);
      // Each kept alert is byte-exact one of the bodies sent.
      for (const k of kept)
        expect(bodies).toContain(fs.readFileSync(path.join(root, 'alert', k), 'utf8'));
    }
    expect(targets).toEqual(new Set(containers.slice(0, 10).map((c) => c.id)));
    const metrics = (await get(service.url, '/metrics')).body;
    expect(metrics).toMatch(/^cirt_alerts_received_total 100$/m);
    expect(metrics).toMatch(/^cirt_alerts_deduplicated_total 90$/m);
    expect(metrics).toMatch(/^cirt_runs_total\{status="ok"\} 10$/m);
    expect(metrics).toMatch(/^cirt_queue_depth 0$/m);
    // The flight recorder runs from the start: its journal grows and its lag is exported.
    expect(metrics).toMatch(/^cirt_recorder_up 1$/m);
    expect(Number(/^cirt_journal_bytes (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(metrics).toMatch(/^cirt_recorder_lag_seconds [\d.e-]+$/m);
  }, 120_000);

  test('Given a rule whose step asks first, When `cirt approve ID` answers, Then the step runs and custody says who approved; an unanswered one times out to the default (reject)', async () => {
    const [a, b] = [containers[10], containers[11]];
    expect((await post(service.url, falco(a.id, a.name, 'Write below etc'))).status).toBe(202);
    let pending: { id: string; container: { name: string } }[] = [];
    await waitFor('a pending approval', async () => {
      pending = JSON.parse((await get(service.url, '/pending')).body).pending;
      return pending.length === 1;
    });
    const listed = await runCli(['pending', '--config', configFile], { cwd: dir, env });
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(pending[0].id);
    const ok = await runCli(
      ['approve', pending[0].id, '--config', configFile, '--by', 'alice@soc'],
      { cwd: dir, env },
    );
    expect(ok.code).toBe(0);
    expect(
      (await runCli(['approve', 'ffff', '--config', configFile], { cwd: dir, env })).code,
    ).toBe(2);

    expect((await post(service.url, falco(b.id, b.name, 'Write below etc'))).status).toBe(202);
    await service.idle();
    const byTarget = (id: string): CustodyRecord[] =>
      caseFolders(cases)
        .map((f) => path.join(cases, f))
        .filter(
          (r) => JSON.parse(fs.readFileSync(path.join(r, 'case.json'), 'utf8')).target.id === id,
        )
        .flatMap(custody)
        .filter((r) => r.step === 'look');
    const approved = byTarget(a.id).find((r) => r.result === 'approved');
    expect(approved?.message).toMatch(/alice@soc \(cirt approve via the service API/);
    expect(byTarget(a.id).some((r) => r.result === 'ok')).toBe(true);
    const declined = byTarget(b.id).find((r) => r.result === 'declined');
    expect(declined?.message).toMatch(/approvals\.timeout \(4s\), approvals\.default is reject/);
  }, 60_000);

  test('Given a dry_run rule, Then it matches and plans, and no case is made', async () => {
    const before = caseFolders(cases).length;
    const c = containers[12];
    const n = events.length;
    expect(
      (await post(service.url, falco(c.id, c.name, 'Read sensitive file untrusted'))).status,
    ).toBe(202);
    await service.idle();
    expect(caseFolders(cases)).toHaveLength(before);
    const ends = events
      .slice(n)
      .flatMap((e) => (e.type === 'run' && e.event.type === 'run:end' ? [e.event] : []));
    expect(ends).toEqual([expect.objectContaining({ status: 'planned', caseId: null })]);
  });

  test('Given an alert no rule matches (priority too low, or an excluded field), Then no run starts', async () => {
    const c = containers[13];
    const n = events.length;
    const low = JSON.parse(falco(c.id, c.name));
    low.priority = 'Notice';
    await post(service.url, JSON.stringify(low));
    await post(
      service.url,
      falco(c.id, c.name, 'Terminal shell in container', { 'proc.cmdline': 'sh -c healthcheck' }),
    );
    await service.idle();
    const outcomes = events.slice(n).map((e) => (e.type === 'alert' ? e.outcome : e.type));
    expect(outcomes).toEqual(['unmatched', 'unmatched']);
  });

  test('Given SIGHUP with a bad new config, Then the old one stays and the reason is logged; a good one is taken', async () => {
    fs.writeFileSync(
      configFile,
      `${config()}  - name: broken\n    playbook: inspect.yaml\n    match: { priority: ">=Sever" }\n`,
    );
    const bad = service.reload();
    expect(bad.ok).toBe(false);
    expect(log.join('\n')).toMatch(
      /config NOT reloaded, the running one stays: .*serve\.yaml:\d+:\d+: rule "broken": "Sever" is not a Falco priority/s,
    );
    expect(service.config().rules).toHaveLength(3);
    fs.writeFileSync(
      configFile,
      config(`  - name: extra\n    playbook: inspect.yaml\n    match: { rule: Extra }\n`),
    );
    expect(service.reload().ok).toBe(true);
    expect(service.config().rules.map((r) => r.name)).toEqual([
      'ask-first',
      'dry',
      'shells',
      'extra',
    ]);
  });

  test('Given a config with several problems, When `cirt serve` starts, Then it exits 2 listing every one with file:line:col', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      [
        'listen: 127.0.0.1:2803',
        'cases_dir: cases',
        'snapshots: { interval: 10 }',
        'rules:',
        '  - name: a',
        '    playbook: inspect.yaml',
        '    match: { priority: ">=Critcal", colour: red }',
        '  - name: b',
        '    playbook: nosuch',
        '',
      ].join('\n'),
    );
    const r = await runCli(['serve', '--config', bad], { cwd: dir, env });
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.yaml:1:9: token_file is required');
    expect(r.err).toContain('bad.yaml:3:24: snapshots.interval: 10 is not a duration');
    expect(r.err).toMatch(/bad\.yaml:7:\d+: unknown key "colour"/);
    expect(r.err).toMatch(
      /bad\.yaml:9:15: rule 2|bad\.yaml:9:15: rule "b": No playbook named "nosuch"/,
    );
    expect(r.err).toContain('4 problem(s)');
  });
});
