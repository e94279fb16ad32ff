import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { packageRoot } from '../../src/util/pkg.js';
import { LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix } from '../../test/fixtures/lab.js';
import { engineEnv, requireThreeEngines, writeDockerConfig } from '../../test/helpers/engines.js';
import type { BenchModule, BenchRow } from './types.js';

/**
 * Issue 11's benchmark: N containers (default 50) spread over 3 engines, contained by ONE
 * `cirt run … --engines all --filter label=…` process, against N parallel single-target `cirt run`
 * processes as the baseline (each contains one container of a second, identical set). The time is
 * from process start to the last network cut (the last isolate step's end, from the NDJSON
 * events). Then the same contained set is collected by one process: wall time and peak RSS (GNU
 * time's maximum resident set size of the cirt process).
 */
const N = Math.max(3, Number(process.env.BENCH_INCIDENT_N ?? 50));
const PREFIX = 'cirt-bench-incident';
const QUARANTINE = `${PREFIX}-quarantine`;
const CLI = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

interface Proc {
  startedAt: number;
  code: number;
  lastCut: number;
  cuts: number;
  maxRssKiB?: number;
  stderr: string;
}

/** Runs the built cli (optionally under /usr/bin/time -f %M), reading NDJSON for isolate step ends. */
function cli(args: string[], env: NodeJS.ProcessEnv, measureRss = false): Promise<Proc> {
  const startedAt = Date.now();
  const argv = measureRss
    ? ['/usr/bin/time', ['-f', 'MAXRSS %M', process.execPath, CLI, ...args]]
    : [process.execPath, [CLI, ...args]];
  const child = spawn(argv[0] as string, argv[1] as string[], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let lastCut = 0;
  let cuts = 0;
  let buf = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      try {
        const e = JSON.parse(line) as {
          type: string;
          time?: string;
          stepId?: string;
          event?: { type: string; stepId: string; time: string; status: string };
        };
        const ev = e.type === 'target:event' ? e.event : e;
        if (ev?.type === 'step:end' && ev.stepId === 'isolate' && ev.time) {
          cuts++;
          lastCut = Math.max(lastCut, Date.parse(ev.time));
        }
      } catch {
        // Not an event line.
      }
    }
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const m = /MAXRSS (\d+)/.exec(stderr);
      resolve({
        startedAt,
        code: code ?? -1,
        lastCut,
        cuts,
        maxRssKiB: m ? Number(m[1]) : undefined,
        stderr,
      });
    });
  });
}

async function makeSet(
  engines: Docker[],
  label: string,
  n: number,
  tag: string,
): Promise<string[]> {
  const names: string[] = [];
  await Promise.all(
    engines.map(async (docker, k) => {
      for (let i = k; i < n; i += engines.length) {
        const name = `${PREFIX}-${tag}-${i}`;
        const c = await docker.createContainer({
          name,
          Image: LAB_IMAGE,
          Cmd: [
            'sh',
            '-c',
            'echo up; i=0; while [ $i -lt 200 ]; do echo line $i; i=$((i+1)); done; exec sleep 3600',
          ],
          Labels: { app: label, 'cirt.lab.prefix': PREFIX },
        });
        await c.start();
        names.push(`${k}:${name}`);
      }
    }),
  );
  return names;
}

export const incidentBench: BenchModule = {
  name: 'incident',
  async run(log) {
    const e = await requireThreeEngines();
    const engines = [e.main, e.local, e.tls];
    const cfg = writeDockerConfig([
      { name: e.local.name, host: e.local.host },
      { name: e.tls.name, host: e.tls.host, tls: e.tls.tls },
    ]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-incident-'));
    const env = engineEnv(cfg.dir, { CIRT_CASES_DIR: path.join(dir, 'cases') });
    const contain = path.join(dir, 'contain.yaml');
    fs.writeFileSync(
      contain,
      `name: bench-contain\nsteps:\n  - id: pause\n    uses: contain:pause\n  - id: isolate\n    uses: contain:network-isolate\n    with:\n      network: ${QUARANTINE}\n  - id: no-restart\n    uses: contain:restart-policy\n    with:\n      policy: "no"\n`,
    );
    const collect = path.join(dir, 'collect.yaml');
    fs.writeFileSync(
      collect,
      'name: bench-collect\nsteps:\n  - uses: collect:inspect\n  - uses: collect:processes\n  - uses: collect:logs\n  - uses: collect:fs-diff\n  - id: seal\n    uses: evidence:seal\n    always: true\n',
    );
    const rows: BenchRow[] = [];
    try {
      await Promise.all(engines.map((x) => cleanupPrefix(x.docker, PREFIX)));
      const docks = engines.map((x) => x.docker);
      log(`creating 2 × ${N} containers over 3 engines…`);
      const one = `${PREFIX}-one`;
      await makeSet(docks, one, N, 'one');
      const many = await makeSet(docks, `${PREFIX}-many`, N, 'many');

      // One process, the whole set.
      const a = await cli(
        [
          'run',
          contain,
          '--engines',
          'all',
          '--filter',
          `label=app=${one}`,
          '--yes',
          '--json',
          '--max-targets',
          String(N),
        ],
        env,
      );
      if (a.code !== 0 || a.cuts !== N)
        throw new Error(
          `one-process containment exited ${a.code} with ${a.cuts}/${N} cuts: ${a.stderr.slice(0, 400)}`,
        );
      const oneMs = a.lastCut - a.startedAt;
      log(`one process: last of ${N} network cuts after ${oneMs} ms`);

      // Baseline: N processes at once, one container each, each on its engine (--context).
      const names = [e.main.name, e.local.name, e.tls.name];
      const t0 = Date.now();
      const procs = await Promise.all(
        many.map((x) => {
          const [k, name] = x.split(':');
          return cli(
            ['--context', names[Number(k)], 'run', contain, '-t', name, '--yes', '--json'],
            env,
          );
        }),
      );
      // Under load some of N processes starting at once do not even reach the engine (its 5 s ping):
      // counted and reported, the time taken over those that cut.
      const bad = procs.filter((p) => p.code !== 0 || p.cuts !== 1);
      const cut = procs.filter((p) => p.cuts === 1);
      if (!cut.length)
        throw new Error(`no baseline process cut its container: ${procs[0].stderr.slice(0, 400)}`);
      const manyMs = Math.max(...cut.map((p) => p.lastCut)) - t0;
      log(`${N} processes: last network cut after ${manyMs} ms`);

      // Collection of the contained set, one process: wall time and its peak RSS.
      const c0 = Date.now();
      const c = await cli(
        [
          'run',
          collect,
          '--engines',
          'all',
          '--filter',
          `label=app=${one}`,
          '--yes',
          '--json',
          '--max-targets',
          String(N),
        ],
        env,
        true,
      );
      const collectMs = Date.now() - c0;
      if (c.code !== 0) throw new Error(`collection exited ${c.code}: ${c.stderr.slice(-600)}`);
      const rssMiB = (c.maxRssKiB ?? NaN) / 1024;
      log(`collection of ${N}: ${collectMs} ms, peak RSS ${rssMiB.toFixed(0)} MiB`);
      rows.push(
        {
          metric: `${N} containers on 3 engines, one cirt run --filter: start → last network cut`,
          value: `${(oneMs / 1000).toFixed(2)} s`,
          target: '< 5 s',
          ok: oneMs < 5000,
        },
        {
          metric: `baseline: ${N} parallel cirt run processes, start → last cut`,
          value: `${(manyMs / 1000).toFixed(2)} s${bad.length ? ` (${bad.length} of ${N} failed: ${bad[0].stderr.split('\n')[0].slice(0, 60)})` : ''}`,
        },
        {
          metric: 'ratio one process / N processes',
          value: (oneMs / manyMs).toFixed(2),
          target: '< 1',
          ok: oneMs < manyMs,
        },
        {
          metric: `collection of the ${N} (inspect, processes, logs, fs-diff, seal), one process`,
          value: `${(collectMs / 1000).toFixed(1)} s`,
        },
        {
          metric: 'peak RSS of that cirt process',
          value: `${rssMiB.toFixed(0)} MiB`,
          target: '≤ 400 MiB',
          ok: rssMiB <= 400,
        },
      );
    } finally {
      await Promise.all(engines.map((x) => cleanupPrefix(x.docker, PREFIX)));
      await Promise.all(
        engines.map((x) =>
          x.docker
            .getNetwork(QUARANTINE)
            .remove()
            .catch(() => undefined),
        ),
      );
      cfg.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return rows;
  },
};
