import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { cleanupPrefix, stageCompromise, waitFor, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Watches the engine's live event stream (the engine keeps only its last 256 events, too few on a
 * shared engine to query afterwards). `until(marker)` creates a network named `marker`, waits for
 * its create event — proof the stream works and the end of the window — and returns what came before.
 */
async function watchEvents(docker: Docker) {
  const stream = (await docker.getEvents()) as unknown as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const seen: Record<string, unknown>[] = [];
  let rest = '';
  stream.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) seen.push(JSON.parse(l));
  });
  return {
    async until(marker: string): Promise<Record<string, unknown>[]> {
      const net = await docker.createNetwork({ Name: marker });
      const isMarker = (e: Record<string, unknown>) =>
        e.Action === 'create' && (e.Actor as { ID?: string })?.ID === net.id;
      try {
        await waitFor(
          `the create event of network ${marker}`,
          async () => seen.some(isMarker),
          5_000,
          50,
        );
        return seen.slice(0, seen.findIndex(isMarker));
      } finally {
        stream.destroy();
        await net.remove();
      }
    },
  };
}

/**
 * What a dry run could change: the target's inspect, and the networks and containers of this test
 * (other tests may share the engine). Nothing is ignored: the inspect of a running container
 * without a health check does not change by itself, which the test checks first with two
 * inspects taken seconds apart (the control).
 */
async function snapshot(docker: Docker, id: string, prefix: string) {
  const mine = (name: string) => name.replace(/^\//, '').startsWith(`${prefix}-`);
  return {
    inspect: await docker.getContainer(id).inspect(),
    networks: (await docker.listNetworks())
      .filter((n) => mine(n.Name))
      .map((n) => `${n.Id} ${n.Name}`)
      .sort(),
    containers: (await docker.listContainers({ all: true }))
      .filter((c) => c.Names.some(mine))
      .map((c) => `${c.Id} ${c.State}`)
      .sort(),
  };
}

describe('--dry-run touches nothing (real engine)', () => {
  let docker: Docker;
  let lab: Lab;
  const prefix = uniquePrefix('dryrun');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-dryrun-'));
  const playbook = path.join(dir, 'everything.yaml');

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix });
    // Every containment action, destructive ones included; --yes approves them, --dry-run must still touch nothing.
    fs.writeFileSync(
      playbook,
      [
        'name: everything',
        'steps:',
        '  - uses: contain:pause',
        '  - uses: contain:network-isolate',
        `    with: { network: ${prefix}-quarantine }`,
        '  - uses: contain:restart-policy',
        '  - uses: contain:limit',
        '    with: { cpus: 0.1, memory: 64m, pidsLimit: 20 }',
        '  - uses: contain:stop',
        '  - uses: contain:kill',
        '',
      ].join('\n'),
    );
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('engine state, events and the cases folder are unchanged after a dry run', async () => {
    const control = await snapshot(docker, lab.victim.id, prefix);
    await sleep(1_500);
    const before = await snapshot(docker, lab.victim.id, prefix);
    expect(before.inspect).toEqual(control.inspect);
    expect(before.containers).toHaveLength(2);
    expect(before.networks).toHaveLength(1);

    const watch = await watchEvents(docker);
    const r = await runCli([
      '--cases-dir',
      dir,
      'run',
      playbook,
      '--target',
      lab.victim.name,
      '--dry-run',
      '--yes',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events[events.length - 1]).toMatchObject({
      type: 'run:end',
      status: 'planned',
      caseDir: null,
    });
    expect(events.filter((e) => e.type === 'step:end').map((e) => e.status)).toEqual(
      Array(6).fill('planned'),
    );
    expect(events[0].steps.map((s: { plan: string }) => s.plan).join('\n')).toMatch(
      /freeze[\s\S]*disconnect[\s\S]*restart policy[\s\S]*cap[\s\S]*stop[\s\S]*SIGKILL/,
    );

    const after = await snapshot(docker, lab.victim.id, prefix);
    expect(after.inspect).toEqual(before.inspect);
    expect(after.networks).toEqual(before.networks);
    expect(after.containers).toEqual(before.containers);
    // Other tests may share this engine: only events about our container or our quarantine network count.
    const ours = (await watch.until(`${prefix}-marker`)).filter((e) => {
      const text = JSON.stringify(e);
      return text.includes(lab.victim.id) || text.includes(`${prefix}-quarantine`);
    });
    expect(ours).toEqual([]);
    expect(fs.readdirSync(dir)).toEqual(['everything.yaml']);
  });
});
