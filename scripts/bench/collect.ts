import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { connectEngine } from '../../src/docker/connection.js';
import { ensureImage, LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix } from '../../test/fixtures/lab.js';
import { median, type BenchModule, type BenchRow } from './types.js';

const PREFIX = 'cirt-bench-collect';
const RUNS = Math.max(1, Number(process.env.BENCH_COLLECT_RUNS ?? 3));
const MiB = 1 << 20;
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

/** A running container with `bytes` of random data written into its filesystem. */
async function bigContainer(docker: Docker, name: string, bytes: number): Promise<string> {
  await ensureImage(docker);
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['sh', '-c', `head -c ${bytes} /dev/urandom > /blob && sleep 2147483647`],
    Labels: { 'cirt.lab.prefix': PREFIX },
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  const deadline = Date.now() + 300_000;
  for (;;) {
    const top = await c.top();
    if (!top.Processes.some((p: string[]) => p.join(' ').includes('head -c'))) break;
    if (Date.now() > deadline)
      throw new Error(`writing ${bytes} bytes into ${name} took over 5 minutes`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return c.id;
}

/** `cirt run` as a child under /usr/bin/time -v: the export step's duration and bytes, and the child's peak RSS. */
function cirtRun(
  playbook: string,
  target: string,
  casesDir: string,
  caseId: string,
): Promise<{ ms: number; bytes: number; rssKiB: number; steps: Record<string, number> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      [
        '-v',
        process.execPath,
        CLI,
        'run',
        playbook,
        '-t',
        target,
        '--case',
        caseId,
        '--cases-dir',
        casesDir,
        '--yes',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const events = out
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              type: string;
              stepId?: string;
              durationMs?: number;
              path?: string;
              bytes?: number;
              status?: string;
            },
        );
      const steps: Record<string, number> = {};
      for (const e of events)
        if (e.type === 'step:end' && e.stepId) steps[e.stepId] = e.durationMs ?? 0;
      const exp = events.find((e) => e.type === 'artifact:added' && e.path === 'fs/export.tar');
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      if (code !== 0 || !exp || !rss)
        return reject(new Error(`cirt run exited ${code}: ${err.slice(-2000)}`));
      resolve({ ms: steps.export, bytes: exp.bytes ?? 0, rssKiB: Number(rss[1]), steps });
    });
  });
}

function timed(cmd: string, cwd?: string): number {
  const t0 = performance.now();
  execFileSync('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  return performance.now() - t0;
}

async function measureSize(
  docker: Docker,
  dir: string,
  mib: number,
  log: (l: string) => void,
  seal: boolean,
): Promise<{ rows: BenchRow[]; caseDir?: string; bundle?: string }> {
  const name = `${PREFIX}-${mib}m`;
  await bigContainer(docker, name, mib * MiB);
  const playbook = path.join(dir, `export-${mib}.yaml`);
  fs.writeFileSync(
    playbook,
    [
      'name: bench-export',
      'steps:',
      '  - id: export',
      '    uses: collect:export',
      ...(seal
        ? ['  - id: seal', '    uses: evidence:seal', '    with:', '      gzipLevel: 1']
        : []),
      '',
    ].join('\n'),
  );
  const cirt: number[] = [];
  const direct: number[] = [];
  const rss: number[] = [];
  let bytes = 0;
  let last: { caseDir?: string; bundle?: string } = {};
  for (let i = 0; i < RUNS; i++) {
    const casesDir = path.join(dir, `cases-${mib}-${i}`);
    const r = await cirtRun(playbook, name, casesDir, `bench-${i}`);
    bytes = r.bytes;
    cirt.push(r.ms);
    rss.push(r.rssKiB);
    const d = timed(`docker export ${name} | sha256sum >/dev/null`);
    direct.push(d);
    log(
      `${mib} MiB run ${i + 1}: cirt collect:export ${mbps(r.bytes, r.ms).toFixed(0)} MiB/s, docker export | sha256sum ${mbps(r.bytes, d).toFixed(0)} MiB/s, cirt peak RSS ${(r.rssKiB / 1024).toFixed(0)} MiB${seal ? `, seal ${(r.steps.seal / 1000).toFixed(1)} s` : ''}`,
    );
    if (seal && i === RUNS - 1)
      last = {
        caseDir: path.join(casesDir, `bench-${i}`),
        bundle: path.join(casesDir, `bench-${i}.tar.gz`),
      };
    else fs.rmSync(casesDir, { recursive: true, force: true });
  }
  const c = mbps(bytes, median(cirt));
  const d = mbps(bytes, median(direct));
  const peak = Math.max(...rss) / 1024;
  return {
    ...last,
    rows: [
      {
        metric: `collect:export ${mib} MiB, cirt (median of ${RUNS})`,
        value: `${c.toFixed(0)} MiB/s`,
      },
      {
        metric: `docker export | sha256sum ${mib} MiB (median of ${RUNS})`,
        value: `${d.toFixed(0)} MiB/s`,
      },
      {
        metric: `export throughput ratio cirt / docker, ${mib} MiB`,
        value: (c / d).toFixed(2),
        target: '≥ 0.8',
        ok: c / d >= 0.8,
      },
      {
        metric: `cirt peak RSS (whole CLI process), ${mib} MiB export`,
        value: `${peak.toFixed(0)} MiB`,
        target: '≤ 200 MiB',
        ok: peak <= 200,
      },
    ],
  };
}

/** cirt verify vs sha256sum -c on the same sealed folder, and the bundle vs the auditor's stock-tool steps. */
function measureVerify(caseDir: string, bundle: string, log: (l: string) => void): BenchRow[] {
  const bytes = Number(execFileSync('du', ['-sb', caseDir]).toString().split('\t')[0]);
  const node = `"${process.execPath}" "${CLI}"`;
  const cirtDir: number[] = [];
  const coreutils: number[] = [];
  const cirtBundle: number[] = [];
  const stock: number[] = [];
  const scratch = fs.mkdtempSync(path.join(path.dirname(bundle), 'audit-'));
  for (let i = 0; i < RUNS; i++) {
    cirtDir.push(timed(`${node} verify "${caseDir}" >/dev/null`));
    coreutils.push(timed('sha256sum -c --quiet SHA256SUMS', caseDir));
    cirtBundle.push(timed(`${node} verify "${bundle}" >/dev/null`));
    stock.push(
      timed(
        `sha256sum -c --quiet "${path.basename(bundle)}.sha256" && tar -xzf "${bundle}" -C "${scratch}" && cd "${scratch}/${path.basename(caseDir)}" && sha256sum -c --quiet SHA256SUMS && cd / && rm -rf "${scratch}"/*`,
        path.dirname(bundle),
      ),
    );
    log(
      `verify run ${i + 1}: cirt folder ${mbps(bytes, cirtDir[i]).toFixed(0)} MiB/s, sha256sum -c ${mbps(bytes, coreutils[i]).toFixed(0)} MiB/s, cirt bundle ${mbps(bytes, cirtBundle[i]).toFixed(0)} MiB/s, tar -xzf + sha256sum -c ${mbps(bytes, stock[i]).toFixed(0)} MiB/s`,
    );
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  const [a, b, c, d] = [cirtDir, coreutils, cirtBundle, stock].map((x) => mbps(bytes, median(x)));
  return [
    {
      metric: `cirt verify case folder (${(bytes / MiB).toFixed(0)} MiB)`,
      value: `${a.toFixed(0)} MiB/s`,
    },
    { metric: 'sha256sum -c SHA256SUMS, same folder', value: `${b.toFixed(0)} MiB/s` },
    {
      metric: 'verify throughput ratio cirt / sha256sum -c',
      value: (a / b).toFixed(2),
      target: '≥ 0.8',
      ok: a / b >= 0.8,
    },
    {
      metric: 'cirt verify bundle .tar.gz (streamed, nothing extracted)',
      value: `${c.toFixed(0)} MiB/s`,
    },
    {
      metric: 'auditor: sha256sum -c .sha256 + tar -xzf + sha256sum -c',
      value: `${d.toFixed(0)} MiB/s`,
    },
    {
      metric: 'bundle ratio cirt / stock tools',
      value: (c / d).toFixed(2),
      target: '≥ 0.8',
      ok: c / d >= 0.8,
    },
  ];
}

export const collectBench: BenchModule = {
  name: 'collect',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-collect-'));
    try {
      await cleanupPrefix(docker, PREFIX);
      const small = await measureSize(docker, dir, 256, log, false);
      const big = await measureSize(docker, dir, 1024, log, true);
      return [...big.rows, ...small.rows, ...measureVerify(big.caseDir!, big.bundle!, log)];
    } finally {
      await cleanupPrefix(docker, PREFIX);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
