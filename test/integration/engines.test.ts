import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { uniquePrefix } from '../helpers/engine.js';
import {
  engineEnv,
  requireThreeEngines,
  writeDockerConfig,
  type ThreeEngines,
} from '../helpers/engines.js';
import { runCli } from '../helpers/run-cli.js';

/** A port nothing listens on (it was free a moment ago). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A web server on port 8080: a listening socket the network collection must find. */
async function startWeb(docker: Docker, name: string, prefix: string): Promise<string> {
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['httpd', '-f', '-p', '8080', '-h', '/var/www'],
    Labels: { 'cirt.lab.prefix': prefix },
  });
  await c.start();
  return c.id;
}

describe('three real engines: contexts, ps --engines, a case on the TLS engine', () => {
  let e: ThreeEngines;
  const prefix = uniquePrefix('engines');
  const names = { main: `${prefix}-main`, local: `${prefix}-e2`, tls: `${prefix}-tls` };
  const ids: Record<string, string> = {};
  let cfg: { dir: string; cleanup: () => void };
  let env: NodeJS.ProcessEnv;
  let brokenPort = 0;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-engines-it-'));

  beforeAll(async () => {
    e = await requireThreeEngines();
    brokenPort = await freePort();
    cfg = writeDockerConfig([
      { name: e.local.name, host: e.local.host },
      { name: e.tls.name, host: e.tls.host, tls: e.tls.tls },
      // A context whose engine is gone: listed as unreachable, the others still listed.
      { name: 'broken', host: `tcp://127.0.0.1:${brokenPort}` },
    ]);
    env = engineEnv(cfg.dir);
    const [a, b, c] = await Promise.all([
      startWeb(e.main.docker, names.main, prefix),
      startWeb(e.local.docker, names.local, prefix),
      startWeb(e.tls.docker, names.tls, prefix),
    ]);
    Object.assign(ids, { main: a, local: b, tls: c });
  }, 120_000);

  afterAll(async () => {
    if (e) await Promise.all([e.main, e.local, e.tls].map((x) => cleanupPrefix(x.docker, prefix)));
    cfg?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('--context NAME reaches that engine only, and its rows name it', async () => {
    const r = await runCli(['--context', e.local.name, 'ps', '--json'], { env });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { engine: string; name: string; id: string }[];
    expect(rows.find((x) => x.name === names.local)).toMatchObject({
      engine: e.local.name,
      id: ids.local,
    });
    // The main engine's container is not on this engine.
    expect(rows.some((x) => x.name === names.main)).toBe(false);
    // DOCKER_CONTEXT picks it the same way; --host with --context is refused as the docker CLI does.
    const viaEnv = await runCli(['ps', '--json'], {
      env: { ...env, DOCKER_CONTEXT: e.tls.name },
    });
    expect(viaEnv.code).toBe(0);
    expect(JSON.parse(viaEnv.out)).toEqual(
      expect.arrayContaining([expect.objectContaining({ engine: e.tls.name, name: names.tls })]),
    );
    const both = await runCli(['--host', e.local.host, '--context', e.local.name, 'ps'], { env });
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/either specify --host or --context, not both/);
  });

  test('ps --engines all lists the three engines side by side and names the unreachable one on stderr', async () => {
    const r = await runCli(['ps', '--engines', 'all'], { env });
    // One engine did not answer: the list is incomplete, so not 0.
    expect(r.code).toBe(1);
    const errLines = r.err.trim().split('\n');
    expect(errLines).toHaveLength(1);
    expect(errLines[0]).toMatch(
      new RegExp(
        `^cirt: engine broken not listed: Cannot reach the Docker engine "broken" at tcp://127\\.0\\.0\\.1:${brokenPort} \\(.*ECONNREFUSED`,
      ),
    );
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(/^ENGINE\s+NAME\s+ID\s+IMAGE\s+STATE/);
    const row = (name: string): string | undefined => lines.find((l) => l.split(/\s+/)[1] === name);
    expect(row(names.main)).toMatch(/^default\s/);
    expect(row(names.local)).toMatch(
      new RegExp(`^${e.local.name}\\s+${names.local}\\s+${ids.local.slice(0, 12)}`),
    );
    expect(row(names.tls)).toMatch(
      new RegExp(`^${e.tls.name}\\s+${names.tls}\\s+${ids.tls.slice(0, 12)}`),
    );
    // Each container is listed once: by its own engine only.
    for (const n of Object.values(names))
      expect(lines.filter((l) => l.includes(n))).toHaveLength(1);

    const some = await runCli(['ps', '--engines', `${e.tls.name},default`, '--json'], { env });
    expect(some.code).toBe(0);
    const rows = JSON.parse(some.out) as { engine: string; name: string }[];
    expect(
      rows.filter((x) => Object.values(names).includes(x.name)).map((x) => [x.engine, x.name]),
    ).toEqual([
      [e.tls.name, names.tls],
      ['default', names.main],
    ]);
  });

  test('a case on the TLS engine: /proc read through a helper container, the engine named in case.json and every timeline row', async () => {
    const playbook = path.join(work, 'tls-collect.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: tls-collect',
        'steps:',
        '  - uses: contain:pause',
        '  - uses: collect:network',
        '    with: { phase: paused }',
        '  - uses: collect:inspect',
        '  - uses: evidence:timeline',
        '  - uses: evidence:seal',
        '    always: true',
        '',
      ].join('\n'),
    );
    const casesDir = path.join(work, 'cases');
    const caseId = `${prefix}-tls-case`;
    const r = await runCli(
      [
        '--context',
        e.tls.name,
        '--cases-dir',
        casesDir,
        'run',
        playbook,
        '-t',
        names.tls,
        '--case',
        caseId,
        '--yes',
      ],
      { env },
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    // The target names its engine in the run's own words too.
    expect(r.out).toContain(`on ${names.tls} (${ids.tls.slice(0, 12)}, engine ${e.tls.name})`);
    const dir = path.join(casesDir, caseId);
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8'));
    expect(info.engine).toMatchObject({
      name: e.tls.name,
      address: 'https://127.0.0.1:' + e.tls.host.split(':').pop(),
      local: false,
    });
    expect(info.target).toMatchObject({ id: ids.tls, name: names.tls });
    // Remote engine: no host /proc, so the helper container read the target's namespaces...
    const coll = JSON.parse(fs.readFileSync(path.join(dir, 'net/paused/collection.json'), 'utf8'));
    expect(coll.via).toBe('helper');
    const sockets = JSON.parse(
      fs.readFileSync(path.join(dir, 'net/paused/sockets.json'), 'utf8'),
    ) as {
      proto: string;
      localPort: number;
      state: string;
    }[];
    expect(
      sockets.some(
        (s) => s.proto.startsWith('tcp') && s.localPort === 8080 && s.state === 'LISTEN',
      ),
    ).toBe(true);
    // ...and it is gone again.
    const left = await e.tls.docker.listContainers({
      all: true,
      filters: { name: [`cirt-helper-${ids.tls.slice(0, 12)}`] },
    });
    expect(left).toEqual([]);
    const rows = fs
      .readFileSync(path.join(dir, 'timeline/timeline.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { engine?: string });
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.every((x) => x.engine === e.tls.name)).toBe(true);
    const csv = fs.readFileSync(path.join(dir, 'timeline/timeline.csv'), 'utf8').split('\r\n');
    expect(csv[0].endsWith(',engine')).toBe(true);
    expect(csv[1].endsWith(`,${e.tls.name}`)).toBe(true);
    // The sealed case verifies offline, exactly as a single-engine one.
    const v = await runCli(['verify', dir], { env });
    expect(v.code).toBe(0);
    // Release finds the case's engine by the name in case.json: no --context needed.
    const rel = await runCli(
      ['--cases-dir', casesDir, 'release', '--case', caseId, '--yes', '--json'],
      {
        env,
      },
    );
    expect(rel.code).toBe(0);
    expect((await e.tls.docker.getContainer(ids.tls).inspect()).State.Paused).toBe(false);
  });
});
