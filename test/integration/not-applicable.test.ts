import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

// An exited container: pausing it, listing its processes and reading its sockets do not apply.
// That is its own status, so a script tells it from a broken step (docs/statuses.md).
describe('steps that do not apply to an exited container (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('not-applicable');
  const name = `${prefix}-exited`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-na-'));
  const playbook = path.join(dir, 'pb.yaml');

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['true'],
      Labels: { 'cirt.lab.prefix': prefix },
      // No network: the test needs none, and does not lean on the engine's default bridge.
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await c.wait();
    fs.writeFileSync(
      playbook,
      [
        'name: na',
        'steps:',
        '  - id: pause',
        '    uses: contain:pause',
        '  - id: processes',
        '    uses: collect:processes',
        '  - id: network',
        '    uses: collect:network',
        '  - id: inspect',
        '    uses: collect:inspect',
        '',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('pause, processes and network end not-applicable; the run is ok (exit 0) and says they did not apply', async () => {
    const r = await runCli([
      '--cases-dir',
      dir,
      'run',
      playbook,
      '-t',
      name,
      '--yes',
      '--json',
      '--case',
      'na',
    ]);
    const events = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const ends = events.filter((e) => e.type === 'step:end');
    expect(ends.map((e) => [e.stepId, e.status])).toEqual([
      ['pause', 'not-applicable'],
      ['processes', 'not-applicable'],
      ['network', 'not-applicable'],
      ['inspect', 'ok'],
    ]);
    expect(String(ends[0].message)).toMatch(/is exited, not running: it has no processes to pause/);
    const end = events.find((e) => e.type === 'run:end') as {
      status: string;
      exitCode: number;
      message: string;
      counts: Record<string, number>;
    };
    expect(r.code).toBe(0);
    expect(end).toMatchObject({ status: 'ok', exitCode: 0 });
    expect(end.counts['not-applicable']).toBe(3);
    expect(end.counts.failed).toBe(0);
    expect(end.message).toMatch(/1 step\(s\) done.*; 3 step\(s\) did not apply/);

    const custody = fs
      .readFileSync(path.join(dir, 'na', 'custody.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; result: string });
    expect(custody.find((x) => x.action === 'contain:pause')?.result).toBe('not-applicable');
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'na', 'case.json'), 'utf8')) as {
      limitations?: { step: string; reason: string }[];
      incomplete?: unknown[];
    };
    expect(info.limitations?.map((l) => l.step)).toEqual(['pause', 'processes', 'network']);
    expect(info.limitations?.[0].reason).toMatch(/^does not apply: /);
    expect(info.incomplete ?? []).toEqual([]);
  });

  test('plain text marks them ∅ and the last line is OK', async () => {
    const r = await runCli(['--cases-dir', dir, 'run', playbook, '-t', name, '--yes']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/∅ pause \(contain:pause\) not-applicable: /);
    expect(r.out).toMatch(/^OK: .*did not apply/m);
  });
});
