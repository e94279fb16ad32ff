import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { connect } from '../../src/app/env.js';
import type { IncidentEvent } from '../../src/app/incident-events.js';
import { incidentRunCommand } from '../../src/cli/commands/incident-run.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
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

async function start(docker: Docker, name: string, label: string, prefix: string): Promise<string> {
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['sh', '-c', 'echo started; exec sleep 3600'],
    Labels: { app: label, 'cirt.lab.prefix': prefix },
  });
  await c.start();
  return c.id;
}

const lines = (text: string): IncidentEvent[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as IncidentEvent);

describe('one incident, many containers on three engines', () => {
  let e: ThreeEngines;
  const prefix = uniquePrefix('incident');
  const quarantine = `${prefix}-quarantine`;
  const label = `${prefix}-web`;
  let cfg: { dir: string; cleanup: () => void };
  let env: NodeJS.ProcessEnv;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-incident-it-'));
  const casesDir = path.join(work, 'cases');
  const playbook = path.join(work, 'contain-collect.yaml');
  let incidentDir = '';

  beforeAll(async () => {
    e = await requireThreeEngines();
    cfg = writeDockerConfig([
      { name: e.local.name, host: e.local.host },
      { name: e.tls.name, host: e.tls.host, tls: e.tls.tls },
    ]);
    env = engineEnv(cfg.dir, { CIRT_CASES_DIR: casesDir });
    // Containment (its own quarantine network, removed by the cleanup), then a little collection and the seal.
    fs.writeFileSync(
      playbook,
      [
        'name: contain-collect',
        'steps:',
        '  - id: pause',
        '    uses: contain:pause',
        '  - id: isolate',
        '    uses: contain:network-isolate',
        `    with: { network: ${quarantine} }`,
        '  - id: logs',
        '    uses: collect:logs',
        '  - id: seal',
        '    uses: evidence:seal',
        '    always: true',
        '',
      ].join('\n'),
    );
    await Promise.all([
      start(e.main.docker, `${prefix}-a`, label, prefix),
      start(e.main.docker, `${prefix}-b`, label, prefix),
      start(e.local.docker, `${prefix}-c`, label, prefix),
      start(e.tls.docker, `${prefix}-d`, label, prefix),
      // Not in the set: another label.
      start(e.main.docker, `${prefix}-other`, `${prefix}-db`, prefix),
    ]);
  }, 120_000);

  afterAll(async () => {
    if (e) await Promise.all([e.main, e.local, e.tls].map((x) => cleanupPrefix(x.docker, prefix)));
    cfg?.cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const filterArgs = ['--engines', 'all', '--filter', `label=app=${label}`];

  test('a filter that matches nothing, or more than --max-targets, is exit 2 and touches nothing', async () => {
    const none = await runCli(
      ['run', playbook, ...filterArgs.slice(0, 3), `label=app=${prefix}-nothing`, '--yes'],
      { env },
    );
    expect(none.code).toBe(2);
    expect(none.err).toContain('No container matches');
    const many = await runCli(['run', playbook, ...filterArgs, '--max-targets', '3', '--yes'], {
      env,
    });
    expect(many.code).toBe(2);
    expect(many.err).toContain('selects 4 containers, more than --max-targets 3');
    expect(
      fs.existsSync(casesDir) ? fs.readdirSync(casesDir).filter((n) => !n.startsWith('.')) : [],
    ).toEqual([]);
  });

  test('ps --filter shows what the filter selects, on every engine', async () => {
    const r = await runCli(['ps', ...filterArgs, '--json'], { env });
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as { name: string; engine: string }[];
    expect(rows.map((x) => `${x.name}@${x.engine}`).sort()).toEqual(
      [
        `${prefix}-a@default`,
        `${prefix}-b@default`,
        `${prefix}-c@${e.local.name}`,
        `${prefix}-d@${e.tls.name}`,
      ].sort(),
    );
    const bad = await runCli(['ps', '--filter', 'colour=red']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"colour" is not a filter');
  });

  test('--dry-run lists every target on every engine with its plan', async () => {
    const r = await runCli(['run', playbook, ...filterArgs, '--dry-run'], { env });
    expect(r.code).toBe(0);
    for (const [n, eng] of [
      ['a', 'default'],
      ['b', 'default'],
      ['c', e.local.name],
      ['d', e.tls.name],
    ])
      expect(r.out).toContain(`${prefix}-${n}@${eng}`);
    expect(r.out).not.toContain(`${prefix}-other`);
    expect(r.out).toContain('[changes the container, containment phase]');
  });

  test('the set is contained first, then collected; every case sealed; the incident verifies', async () => {
    const r = await runCli(['run', playbook, ...filterArgs, '--yes', '--json'], { env });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const events = lines(r.out);
    const end = events.find((x) => x.type === 'incident:end');
    expect(end).toMatchObject({ status: 'ok', exitCode: 0, counts: { ok: 4 } });
    incidentDir = (end as { dir: string }).dir;
    // No collection step started before the last network cut.
    const at = (pred: (x: IncidentEvent) => boolean): number[] =>
      events.flatMap((x, i) => (pred(x) ? [i] : []));
    const cuts = at(
      (x) =>
        x.type === 'target:event' && x.event.type === 'step:end' && x.event.stepId === 'isolate',
    );
    const collects = at(
      (x) =>
        x.type === 'target:event' && x.event.type === 'step:start' && x.event.stepId === 'logs',
    );
    expect(cuts).toHaveLength(4);
    expect(Math.max(...cuts)).toBeLessThan(Math.min(...collects));
    // Really contained: paused, on the quarantine network only.
    for (const [docker, n] of [
      [e.main.docker, 'a'],
      [e.local.docker, 'c'],
      [e.tls.docker, 'd'],
    ] as const) {
      const i = await docker.getContainer(`${prefix}-${n}`).inspect();
      expect(i.State.Paused).toBe(true);
      expect(Object.keys(i.NetworkSettings.Networks)).toEqual([quarantine]);
    }
    expect((await e.main.docker.getContainer(`${prefix}-other`).inspect()).State.Paused).toBe(
      false,
    );
    // Two targets isolated at once on one engine made one quarantine network, not two of one name.
    const nets = await e.main.docker.listNetworks({ filters: { name: [quarantine] } });
    expect(nets.filter((n) => n.Name === quarantine)).toHaveLength(1);
    const manifest = JSON.parse(fs.readFileSync(path.join(incidentDir, 'incident.json'), 'utf8'));
    expect(manifest.cases.map((c: { engine: { name: string } }) => c.engine.name).sort()).toEqual(
      ['default', 'default', e.local.name, e.tls.name].sort(),
    );
    for (const c of manifest.cases) expect(c.bundle.sha256).toMatch(/^[0-9a-f]{64}$/);
    const v = await runCli(['verify', incidentDir]);
    expect(v.out).toContain('VALID');
    expect(v.code).toBe(0);
  }, 120_000);

  test('timeline INCIDENT merges the cases with a container column; findings INCIDENT reads them all', async () => {
    const t = await runCli(['timeline', incidentDir, '--format', 'jsonl']);
    expect(t.code).toBe(0);
    const rows = t.out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { timestamp: number; attrs: { container: string } });
    const containers = new Set(rows.map((x) => x.attrs.container));
    expect(containers).toEqual(
      new Set([
        `${prefix}-a@default`,
        `${prefix}-b@default`,
        `${prefix}-c@${e.local.name}`,
        `${prefix}-d@${e.tls.name}`,
      ]),
    );
    expect(rows.map((x) => x.timestamp)).toEqual(
      [...rows.map((x) => x.timestamp)].sort((a, b) => a - b),
    );
    const table = await runCli(['timeline', incidentDir]);
    expect(table.out.split('\n')[0]).toMatch(/^TIME\s+CONTAINER\s+SOURCE/);
    const f = await runCli(['findings', incidentDir, '--json']);
    expect(f.code).toBe(0);
    expect(JSON.parse(f.out)).toMatchObject({ cases: 4 });
  }, 60_000);

  test('a tampered case makes verify INCIDENT exit 1 naming it', async () => {
    const m = JSON.parse(fs.readFileSync(path.join(incidentDir, 'incident.json'), 'utf8'));
    const victim = m.cases[1];
    fs.appendFileSync(path.join(incidentDir, victim.bundle.path), 'x');
    const v = await runCli(['verify', incidentDir]);
    expect(v.code).toBe(1);
    expect(v.out).toContain(`✖ ${victim.caseId}`);
    expect(v.out).toMatch(/INVALID: .*1 of 4 cases do not verify/);
    expect(v.out).toContain(`✔ ${m.cases[0].caseId}`);
  });

  test('the set is approved once, listed: declining runs nothing on any of them', async () => {
    const asking = path.join(work, 'asking.yaml');
    fs.writeFileSync(
      asking,
      `name: asking\nsteps:\n  - id: isolate\n    uses: contain:network-isolate\n    with: { network: ${quarantine} }\n    confirm: true\n`,
    );
    const before = fs.readdirSync(casesDir).sort();
    const asked: { targets: string[]; steps: string[] }[] = [];
    const sink = new PassThrough();
    const r = await incidentRunCommand(
      {
        playbook: asking,
        targets: [],
        filters: [`label=app=${label}`],
        engineNames: 'all',
        approveSet: async (set) => {
          asked.push({
            targets: set.targets.map((t) => t.name).sort(),
            steps: set.steps.map((x) => x.id),
          });
          return 'abort';
        },
      },
      { out: sink, err: sink, interactive: false, env, cwd: work },
    );
    expect(asked).toEqual([
      { targets: ['a', 'b', 'c', 'd'].map((n) => `${prefix}-${n}`), steps: ['isolate'] },
    ]);
    expect(r).toMatchObject({ status: 'declined', exitCode: 1, dir: null });
    expect(fs.readdirSync(casesDir).sort()).toEqual(before);
  });

  test('a target removed mid-run fails alone: the others are contained and collected, exit 1 with counts', async () => {
    const victims = ['x', 'y', 'z'].map((n) => `${prefix}-${n}`);
    const ids = await Promise.all(
      victims.map((n) => start(e.main.docker, n, `${prefix}-mid`, prefix)),
    );
    const real = await connect({ cwd: work, env });
    // The real engine; only its log read of y first removes y (as `docker rm -f` mid-collection).
    const runtime = new Proxy(real, {
      get(t, p, r) {
        if (p === 'logs')
          return async (...args: Parameters<ContainerRuntime['logs']>) => {
            if (args[0].id === ids[1])
              await e.main.docker.getContainer(ids[1]).remove({ force: true });
            return t.logs(...args);
          };
        const v = Reflect.get(t, p, r);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    }) as ContainerRuntime;
    const out: Buffer[] = [];
    const sink = new PassThrough();
    sink.on('data', (c: Buffer) => out.push(c));
    const r = await incidentRunCommand(
      {
        playbook,
        targets: [],
        filters: [`label=app=${prefix}-mid`],
        yes: true,
        engines: [{ name: 'default', runtime }],
      },
      { out: sink, err: sink, interactive: false, env, cwd: work },
    );
    expect(r.exitCode).toBe(1);
    expect(r.counts).toEqual({ ok: 2, failed: 1 });
    expect(r.message).toContain(`not ok: ${victims[1]}@default failed`);
    const byName = new Map(r.targets.map((t) => [t.name, t]));
    expect(byName.get(victims[0])?.status).toBe('ok');
    expect(byName.get(victims[2])?.status).toBe('ok');
    const manifest = JSON.parse(fs.readFileSync(path.join(r.dir!, 'incident.json'), 'utf8'));
    expect(manifest).toMatchObject({ status: 'failed', exitCode: 1, counts: { ok: 2, failed: 1 } });
    const z = await e.main.docker.getContainer(victims[2]).inspect();
    expect(Object.keys(z.NetworkSettings.Networks)).toEqual([quarantine]);
  }, 120_000);
});
