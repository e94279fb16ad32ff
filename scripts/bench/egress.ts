import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import { connectEngine } from '../../src/docker/connection.js';
import type { RunEvent } from '../../src/runner/events.js';
import { cleanupPrefix, stageCompromise, type Lab } from '../../test/fixtures/lab.js';
import { median, type BenchModule } from './types.js';

const RUNS = Math.max(5, Number(process.env.BENCH_EGRESS_RUNS ?? 5));
const PREFIX = 'cirt-bench-egress';
const QUARANTINE = `${PREFIX}-quarantine`;

/**
 * Runs one containment step as `cirt run` does and times, from its step:start event, the moment the
 * C2 connection is cut: for restrict-egress the step's "rules in force" progress event (the nft
 * transaction has committed: the established flow's next packet is dropped), for network-isolate
 * the step's end (its disconnects are done). Also returns the whole step's time.
 */
async function timeStep(
  lab: Lab,
  casesDir: string,
  playbook: string,
  caseId: string,
): Promise<{ cut: number; step: number }> {
  let start = 0;
  let cut = 0;
  let end = 0;
  let status = '';
  const listener = (e: RunEvent): void => {
    if (e.type === 'step:start') start = performance.now();
    if (e.type === 'step:progress' && e.message?.startsWith('rules in force'))
      cut = performance.now();
    if (e.type === 'step:end') [end, status] = [performance.now(), e.status];
  };
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const io = { out: sink, err: sink, interactive: false, env: process.env, cwd: casesDir };
  const r = await runCommand(
    { playbook, target: lab.victim.name, caseId, casesDir, yes: true, listeners: [listener] },
    io,
  );
  if (r.exitCode !== 0 || status !== 'ok')
    throw new Error(`${caseId} ended ${r.status} (step ${status}): ${r.message}`);
  return { cut: (cut || end) - start, step: end - start };
}

async function dropLab(docker: Docker, lab: Lab): Promise<void> {
  await Promise.all(
    [lab.victim.id, lab.attacker.id].map((id) => docker.getContainer(id).remove({ force: true })),
  );
  await docker.getNetwork(lab.network.id).remove();
}

export const egressBench: BenchModule = {
  name: 'egress',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-egress-'));
    const egress = path.join(dir, 'egress.yaml');
    const isolate = path.join(dir, 'isolate.yaml');
    fs.writeFileSync(egress, 'name: bench-egress\nsteps:\n  - uses: contain:restrict-egress\n');
    fs.writeFileSync(
      isolate,
      `name: bench-isolate\nsteps:\n  - uses: contain:network-isolate\n    with:\n      network: ${QUARANTINE}\n`,
    );
    const e: { cut: number; step: number }[] = [];
    const n: { cut: number; step: number }[] = [];
    try {
      await cleanupPrefix(docker, PREFIX);
      // Run 0 of each is a warm-up (it also creates the quarantine network) and is not counted.
      for (let i = 0; i <= RUNS; i++) {
        const a = await stageCompromise(docker, { prefix: `${PREFIX}-${i}a` });
        const x = await timeStep(a, dir, egress, `egress-${i}`);
        await dropLab(docker, a);
        const b = await stageCompromise(docker, { prefix: `${PREFIX}-${i}b` });
        const y = await timeStep(b, dir, isolate, `isolate-${i}`);
        await dropLab(docker, b);
        if (i > 0) {
          e.push(x);
          n.push(y);
        }
        log(
          `run ${i}${i ? '' : ' (warm-up)'}: restrict-egress cut ${x.cut.toFixed(1)} ms (step ${x.step.toFixed(1)} ms), network-isolate ${y.cut.toFixed(1)} ms`,
        );
      }
    } finally {
      await cleanupPrefix(docker, PREFIX);
      await docker
        .getNetwork(QUARANTINE)
        .remove()
        .catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const cut = median(e.map((x) => x.cut));
    const step = median(e.map((x) => x.step));
    const iso = median(n.map((x) => x.cut));
    return [
      {
        metric: `restrict-egress: step start → beacon cut (median of ${RUNS})`,
        value: `${cut.toFixed(1)} ms`,
        target: '< 200 ms',
        ok: cut < 200,
      },
      {
        metric: `restrict-egress: whole step with its probes (median of ${RUNS})`,
        value: `${step.toFixed(1)} ms`,
      },
      {
        metric: `network-isolate: step start → cut (step end, median of ${RUNS})`,
        value: `${iso.toFixed(1)} ms`,
      },
      { metric: 'ratio restrict-egress cut / network-isolate', value: (cut / iso).toFixed(2) },
    ];
  },
};
