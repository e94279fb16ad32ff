import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { releaseCommand } from '../../src/cli/commands/release.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

// A responder's round: two cases on one container, `cirt cases` to see which holds what, a release
// of the wrong case, a release asked and refused, then `release -t` of the container.
describe('cirt cases and cirt release -t (real engine)', () => {
  let docker: Docker;
  let id = '';
  const prefix = uniquePrefix('cases-release');
  const name = `${prefix}-web`;
  const quarantine = `${prefix}-q`;
  // Its own network: the test does not lean on the engine's default bridge.
  const net = `${prefix}-net`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-cases-release-'));
  const cli = (...args: string[]) => runCli(['--cases-dir', dir, ...args]);
  const state = async () => {
    const i = await docker.getContainer(id).inspect();
    return { paused: i.State.Paused, networks: Object.keys(i.NetworkSettings.Networks).sort() };
  };

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    await docker.createNetwork({ Name: net, Labels: { 'cirt.lab.prefix': prefix } });
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', 'sleep 600'],
      Labels: { 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: net },
    });
    id = c.id;
    await c.start();
    const svc = await docker.createContainer({
      name: `${prefix}-svc`,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', 'sleep 600'],
      Labels: { 'cirt.lab.prefix': prefix },
      ExposedPorts: { '80/tcp': {} },
      HostConfig: { NetworkMode: net, PortBindings: { '80/tcp': [{ HostPort: '' }] } },
    });
    await svc.start();
    fs.writeFileSync(
      path.join(dir, 'hold.yaml'),
      `name: hold\nsteps:\n  - id: pause\n    uses: contain:pause\n  - id: isolate\n    uses: contain:network-isolate\n    with:\n      network: ${quarantine}\n  - id: no-restart\n    uses: contain:restart-policy\n    with:\n      policy: "no"\n`,
    );
    fs.writeFileSync(
      path.join(dir, 'look.yaml'),
      'name: look\nsteps:\n  - id: inspect\n    uses: collect:inspect\n',
    );
    expect(
      (await cli('run', path.join(dir, 'hold.yaml'), '-t', name, '--yes', '--case', 'case-a')).code,
    ).toBe(0);
    expect(
      (await cli('run', path.join(dir, 'look.yaml'), '-t', name, '--case', 'case-b')).code,
    ).toBe(0);
  }, 120_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('cirt cases shows which case holds what on the container', async () => {
    const r = await cli('cases', '--json');
    expect(r.code).toBe(0);
    const rows = (
      JSON.parse(r.out) as {
        cases: { id: string; target: { id: string }; containment: { label: string }[] }[];
      }
    ).cases;
    expect(rows.map((x) => [x.id, x.target.id, x.containment.map((c) => c.label)])).toEqual([
      ['case-a', id, ['restart policy', 'network isolation', 'pause']],
      ['case-b', id, []],
    ]);
  });

  test('cirt ps: PORTS, every measure in force with its case, -q, --no-trunc, --format json', async () => {
    const lines = (await cli('ps', '--format', 'json')).out.trimEnd().split('\n');
    const rows = lines.map(
      (l) =>
        JSON.parse(l) as {
          id: string;
          name: string;
          ports: string[];
          containment: { measure: string; cases: string[] }[];
        },
    );
    const web = rows.find((x) => x.id === id)!;
    expect(web.containment).toEqual([
      { measure: 'paused', cases: ['case-a'] },
      { measure: 'quarantined', cases: ['case-a'] },
      { measure: 'restart policy', cases: ['case-a'] },
    ]);
    const svc = rows.find((x) => x.name === `${prefix}-svc`)!;
    expect(svc.ports.join(' ')).toMatch(/:\d+->80\/tcp/);
    expect(svc.containment).toEqual([]);

    const table = await cli('ps');
    expect(table.out.split('\n')[0]).toMatch(
      /^NAME +ID +IMAGE +STATE +NETWORKS +PORTS +CONTAINMENT$/,
    );
    expect(table.out).toContain(
      'paused (case case-a) · quarantined (case case-a) · restart policy (case case-a)',
    );
    expect(table.out).toMatch(/->80\/tcp/);
    const q = (await cli('ps', '-q')).out.trimEnd().split('\n');
    expect(q).toContain(id.slice(0, 12));
    expect(q.every((x) => /^[0-9a-f]{12}$/.test(x))).toBe(true);
    expect((await cli('ps', '-q', '--no-trunc')).out.split('\n')).toContain(id);
    expect((await cli('ps', '--no-trunc')).out).toContain(id);
  });

  test('releasing the wrong case changes nothing and names the case that holds the quarantine', async () => {
    const r = await cli('release', '--case', 'case-b');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NOTHING TO RELEASE/);
    expect(r.out).toMatch(
      /case case-a holds restart policy, network isolation, pause on .*: cirt release --case case-a/,
    );
    expect(await state()).toEqual({ paused: true, networks: [quarantine] });
  });

  test('asked and answered no, or nobody to ask: nothing changes', async () => {
    const out = new PassThrough();
    const err = new PassThrough();
    let asked = '';
    const errText: Buffer[] = [];
    err.on('data', (c: Buffer) => errText.push(c));
    const io = { out, err, interactive: true, env: process.env, cwd: dir };
    const no = await releaseCommand(
      { casesDir: dir, target: name, confirm: async (q) => ((asked = q), false) },
      io,
    );
    expect(no.reports).toEqual([]);
    expect(asked).toMatch(/Release it\? \[y\/N\]/);
    expect(Buffer.concat(errText).toString()).toMatch(
      /will undo: restart policy, network isolation, pause/,
    );
    expect(Buffer.concat(errText).toString()).toMatch(/Not released/);

    const script = await cli('release', '-t', name);
    expect(script.code).toBe(2);
    expect(script.err).toMatch(/Release needs a confirmation/);
    expect(await state()).toEqual({ paused: true, networks: [quarantine] });
  });

  test('release -t CONTAINER --yes finds the case holding it and undoes it all', async () => {
    const r = await cli('release', '-t', name, '--yes', '--json');
    expect(r.code).toBe(0);
    const reports = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { caseId: string; status: string });
    expect(reports.map((x) => [x.caseId, x.status])).toEqual([['case-a', 'ok']]);
    expect(await state()).toEqual({ paused: false, networks: [net] });
    const after = await cli('cases');
    expect(after.out).not.toMatch(/network isolation/);
    const again = await cli('release', '-t', name, '--yes');
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/No case in .* holds containment on/);
  });

  test('a re-run where every step is a no-op says so, and cirt cases marks that case empty', async () => {
    const hold = path.join(dir, 'hold.yaml');
    expect((await cli('run', hold, '-t', name, '--yes', '--case', 'case-c')).code).toBe(0);
    const again = await cli('run', hold, '-t', name, '--yes', '--case', 'case-d');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(
      /^OK: every step was a no-op \(3 step\(s\)\): nothing was changed or collected/m,
    );
    const list = await cli('cases');
    expect(list.out).toMatch(/^case-d .*ok, empty \(nothing collected\)/m);
    expect(list.err).toMatch(/1 empty/);
    expect((await cli('release', '-t', name, '--yes')).code).toBe(0);
  });
});
