import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { connectEngine } from '../../src/docker/connection.js';
import { ensureImage, LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix } from '../../test/fixtures/lab.js';
import { median, type BenchModule, type BenchRow } from './types.js';

/**
 * Sealing against collecting, on the same case: a run collects (collect:export of random data, or
 * collect:logs of a text log) and then seals with the default gzip level; the seal step's
 * throughput (the case folder's bytes over the step's time) is compared with the collecting step's.
 * Peak RSS is the whole CLI process's. The bundle of the last run is checked with stock tools.
 */
const PREFIX = 'cirt-bench-seal';
const RUNS = Math.max(1, Number(process.env.BENCH_SEAL_RUNS ?? 3));
const RANDOM_MIB = Math.max(16, Number(process.env.BENCH_SEAL_MIB ?? 256));
const LOG_LINES = Math.max(10_000, Number(process.env.BENCH_SEAL_LOG_LINES ?? 1_000_000));
const MiB = 1 << 20;
// BENCH_CIRT_CLI runs another build (e.g. the previous commit's bundle) for a before/after comparison.
const CLI =
  process.env.BENCH_CIRT_CLI ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bundle/main.js');

/** Starts a container running `script`, which ends by touching /ready; resolves once it has. */
async function prepared(docker: Docker, name: string, script: string): Promise<string> {
  await ensureImage(docker);
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['sh', '-c', `${script}; touch /ready; exec sleep 2147483647`],
    Labels: { 'cirt.lab.prefix': PREFIX },
    HostConfig: { NetworkMode: 'none' },
  });
  await c.start();
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      execFileSync('docker', ['exec', c.id, 'test', '-f', '/ready'], { stdio: 'ignore' });
      return c.id;
    } catch {
      if (Date.now() > deadline) throw new Error(`preparing ${name} took over 10 minutes`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

interface RunFacts {
  collectMs: number;
  collectBytes: number;
  sealMs: number;
  rssKiB: number;
  caseDir: string;
  bundle: string;
}

/** `cirt run` (collect, seal) under /usr/bin/time -v: both steps' times, the bytes collected, peak RSS. */
function cirtRun(
  playbook: string,
  target: string,
  casesDir: string,
  id: string,
): Promise<RunFacts> {
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
        id,
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
            JSON.parse(l) as { type: string; stepId?: string; durationMs?: number; bytes?: number },
        );
      const ms = (step: string): number =>
        events.find((e) => e.type === 'step:end' && e.stepId === step)?.durationMs ?? NaN;
      const collectBytes = events
        .filter((e) => e.type === 'artifact:added' && e.stepId === 'collect')
        .reduce((n, e) => n + (e.bytes ?? 0), 0);
      const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(err);
      if (code !== 0 || !rss || !collectBytes)
        return reject(new Error(`cirt run exited ${code}: ${err.slice(-2000)}`));
      resolve({
        collectMs: ms('collect'),
        collectBytes,
        sealMs: ms('seal'),
        rssKiB: Number(rss[1]),
        caseDir: path.join(casesDir, id),
        bundle: path.join(casesDir, `${id}.tar.gz`),
      });
    });
  });
}

const mbps = (bytes: number, ms: number): number => bytes / MiB / (ms / 1000);

/** gzip -t, tar -tzf and `cirt verify` on a bundle: it must stay a plain .tar.gz. */
function stockToolsAccept(bundle: string): boolean {
  try {
    execFileSync('gzip', ['-t', bundle], { stdio: 'ignore' });
    execFileSync('sh', ['-c', `tar -tzf "${bundle}" >/dev/null`], { stdio: 'ignore' });
    execFileSync(process.execPath, [CLI, 'verify', bundle], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function measure(
  docker: Docker,
  dir: string,
  label: string,
  collect: string,
  target: string,
  log: (l: string) => void,
): Promise<BenchRow[]> {
  const playbook = path.join(dir, `${label}.yaml`);
  fs.writeFileSync(
    playbook,
    `name: bench-seal-${label}\nsteps:\n  - id: collect\n    uses: ${collect}\n  - id: seal\n    uses: evidence:seal\n`,
  );
  const collectRates: number[] = [];
  const sealRates: number[] = [];
  const rss: number[] = [];
  let accepted = false;
  let caseMiB = 0;
  for (let i = 0; i < RUNS; i++) {
    const casesDir = path.join(dir, `cases-${label}-${i}`);
    const r = await cirtRun(playbook, target, casesDir, `bench-${i}`);
    const caseBytes = Number(execFileSync('du', ['-sb', r.caseDir]).toString().split('\t')[0]);
    caseMiB = caseBytes / MiB;
    collectRates.push(mbps(r.collectBytes, r.collectMs));
    sealRates.push(mbps(caseBytes, r.sealMs));
    rss.push(r.rssKiB / 1024);
    const bundleMiB = fs.statSync(r.bundle).size / MiB;
    if (i === RUNS - 1) accepted = stockToolsAccept(r.bundle);
    log(
      `${label} run ${i + 1}: ${collect} ${collectRates[i].toFixed(0)} MiB/s, seal ${sealRates[i].toFixed(0)} MiB/s (${caseMiB.toFixed(0)} MiB case → ${bundleMiB.toFixed(0)} MiB bundle in ${(r.sealMs / 1000).toFixed(1)} s), peak RSS ${rss[i].toFixed(0)} MiB`,
    );
    fs.rmSync(casesDir, { recursive: true, force: true });
  }
  const c = median(collectRates);
  const s = median(sealRates);
  const peak = Math.max(...rss);
  return [
    { metric: `${label}: ${collect} (median of ${RUNS})`, value: `${c.toFixed(0)} MiB/s` },
    {
      metric: `${label}: evidence:seal of that ${caseMiB.toFixed(0)} MiB case (median)`,
      value: `${s.toFixed(0)} MiB/s`,
    },
    {
      metric: `${label}: seal / collect throughput`,
      value: (s / c).toFixed(2),
      target: '≥ 0.8',
      ok: s / c >= 0.8,
    },
    {
      metric: `${label}: cirt peak RSS (collect + seal)`,
      value: `${peak.toFixed(0)} MiB`,
      target: '≤ 200 MiB',
      ok: peak <= 200,
    },
    {
      metric: `${label}: bundle passes gzip -t, tar -tzf, cirt verify`,
      value: accepted ? 'yes' : 'no',
      target: 'yes',
      ok: accepted,
    },
  ];
}

export const sealBench: BenchModule = {
  name: 'seal',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-seal-'));
    try {
      await cleanupPrefix(docker, PREFIX);
      const random = `${PREFIX}-random`;
      const text = `${PREFIX}-text`;
      log(`preparing ${RANDOM_MIB} MiB of random data and a log of ${LOG_LINES} lines`);
      await prepared(docker, random, `head -c ${RANDOM_MIB * MiB} /dev/urandom > /blob`);
      // Web-server-like lines with varying numbers: compressible as real logs are, not trivially.
      await prepared(
        docker,
        text,
        `awk 'BEGIN { srand(7); for (i = 0; i < ${LOG_LINES}; i++) printf "2026-12-01T12:%02d:%02d.%06dZ 10.0.%d.%d GET /api/v1/items/%d?page=%d HTTP/1.1 %d %d %.3fms ua=curl/8.%d\\n", (i/60000)%60, (i/1000)%60, i%1000000, rand()*255, rand()*255, rand()*100000, rand()*50, (rand()<0.9?200:404), rand()*65536, rand()*100, rand()*9 }'`,
      );
      return [
        ...(await measure(docker, dir, 'random data', 'collect:export', random, log)),
        ...(await measure(docker, dir, 'text log', 'collect:logs', text, log)),
      ];
    } finally {
      await cleanupPrefix(docker, PREFIX);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
