import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import { connectEngine } from '../../src/docker/connection.js';
import { QUARANTINE_LABEL } from '../../src/runtime/quarantine.js';
import type { RunEvent } from '../../src/runner/events.js';
import { cleanupPrefix, stageCompromise, type Lab } from '../../test/fixtures/lab.js';
import { median, type BenchModule } from './types.js';

const RUNS = Math.max(10, Number(process.env.BENCH_CONTAIN_RUNS ?? 10));
const PREFIX = 'cirt-bench-contain';
const QUARANTINE = `${PREFIX}-quarantine`;

/** The isolate step exactly as `cirt run` runs it (validate, connect, resolve, case, runner); returns the step's time. */
async function cirtIsolate(
  lab: Lab,
  casesDir: string,
  playbook: string,
  i: number,
): Promise<number> {
  let start = 0;
  let end = 0;
  let status = '';
  const listener = (e: RunEvent): void => {
    if (e.type === 'step:start') start = performance.now();
    if (e.type === 'step:end') [end, status] = [performance.now(), e.status];
  };
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const io = { out: sink, err: sink, interactive: false, env: process.env, cwd: casesDir };
  const r = await runCommand(
    {
      playbook,
      target: lab.victim.name,
      caseId: `bench-${i}`,
      casesDir,
      yes: true,
      listeners: [listener],
    },
    io,
  );
  if (r.exitCode !== 0 || status !== 'ok')
    throw new Error(`cirt isolation run ${i} ended ${r.status} (step ${status}): ${r.message}`);
  return end - start;
}

/** The same engine calls, made directly: inspect, create-if-missing, disconnect each, connect quarantine. */
async function directIsolate(docker: Docker, lab: Lab): Promise<number> {
  const t0 = performance.now();
  const info = await docker.getContainer(lab.victim.id).inspect();
  let q: { Id: string };
  try {
    q = (await docker.getNetwork(QUARANTINE).inspect()) as { Id: string };
  } catch {
    const net = await docker.createNetwork({
      Name: QUARANTINE,
      Internal: true,
      Labels: { [QUARANTINE_LABEL]: '1' },
      Options: { 'com.docker.network.bridge.enable_icc': 'false' },
    });
    q = { Id: net.id };
  }
  for (const n of Object.values(info.NetworkSettings.Networks))
    await docker.getNetwork(n.NetworkID).disconnect({ Container: info.Id, Force: true });
  await docker.getNetwork(q.Id).connect({ Container: info.Id });
  return performance.now() - t0;
}

/** Removes one lab's containers and network but not the shared quarantine network. */
async function dropLab(docker: Docker, lab: Lab): Promise<void> {
  await Promise.all(
    [lab.victim.id, lab.attacker.id].map((id) => docker.getContainer(id).remove({ force: true })),
  );
  await docker.getNetwork(lab.network.id).remove();
}

export const containBench: BenchModule = {
  name: 'contain',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-'));
    const playbook = path.join(dir, 'isolate.yaml');
    fs.writeFileSync(
      playbook,
      `name: bench-isolate\nsteps:\n  - uses: contain:network-isolate\n    with:\n      network: ${QUARANTINE}\n`,
    );
    const cirt: number[] = [];
    const direct: number[] = [];
    try {
      await cleanupPrefix(docker, PREFIX);
      // Run 0 of each is a warm-up (it also creates the quarantine network) and is not counted.
      for (let i = 0; i <= RUNS; i++) {
        const a = await stageCompromise(docker, { prefix: `${PREFIX}-${i}a` });
        const c = await cirtIsolate(a, dir, playbook, i);
        await dropLab(docker, a);
        const b = await stageCompromise(docker, { prefix: `${PREFIX}-${i}b` });
        const d = await directIsolate(docker, b);
        await dropLab(docker, b);
        if (i > 0) {
          cirt.push(c);
          direct.push(d);
        }
        log(`run ${i}${i ? '' : ' (warm-up)'}: cirt ${c.toFixed(1)} ms, direct ${d.toFixed(1)} ms`);
      }
    } finally {
      await cleanupPrefix(docker, PREFIX);
      await docker
        .getNetwork(QUARANTINE)
        .remove()
        .catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const mc = median(cirt);
    const md = median(direct);
    const ratio = mc / md;
    return [
      {
        metric: `isolation step, cirt (median of ${RUNS})`,
        value: `${mc.toFixed(1)} ms`,
        target: '< 1000 ms',
        ok: mc < 1000,
      },
      { metric: `same engine calls, direct (median of ${RUNS})`, value: `${md.toFixed(1)} ms` },
      { metric: 'ratio cirt / direct', value: ratio.toFixed(2), target: '≤ 1.5', ok: ratio <= 1.5 },
    ];
  },
};
