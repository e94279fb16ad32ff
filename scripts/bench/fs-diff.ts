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
import { median, type BenchModule } from './types.js';

const PREFIX = 'cirt-bench-fsdiff';
const FILES = Math.max(1, Number(process.env.BENCH_FSDIFF_FILES ?? 10_000));
const RUNS = Math.max(1, Number(process.env.BENCH_FSDIFF_RUNS ?? 5));
// BENCH_CIRT_CLI runs another build (e.g. the previous release) for a before/after comparison.
const CLI =
  process.env.BENCH_CIRT_CLI ??
  path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');

/** A container with FILES small files added to /tmp, a directory that exists in the image. */
async function manyFiles(docker: Docker, name: string): Promise<string> {
  await ensureImage(docker);
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: [
      'sh',
      '-c',
      `for i in $(seq 1 ${FILES}); do echo "file $i" > /tmp/f$i; done; touch /ready; exec sleep 2147483647`,
    ],
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
      if (Date.now() > deadline)
        throw new Error(`writing ${FILES} files into ${name} took over 10 minutes`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** The fs-diff step's duration in a `cirt run`, and its archive request count. */
function cirtFsDiff(
  playbook: string,
  target: string,
  casesDir: string,
): Promise<{ ms: number; requests: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        playbook,
        '-t',
        target,
        '--case',
        'bench',
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
      const end = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { type: string; stepId?: string; durationMs?: number })
        .find((e) => e.type === 'step:end' && e.stepId === 'fs-diff');
      if (code !== 0 || !end)
        return reject(new Error(`cirt run exited ${code}: ${err.slice(-2000)}`));
      const requests = (
        JSON.parse(
          fs.readFileSync(path.join(casesDir, 'bench', 'fs/diff-requests.json'), 'utf8'),
        ) as unknown[]
      ).length;
      resolve({ ms: end.durationMs ?? 0, requests });
    });
  });
}

/** The engine's own time for the archive of /tmp (what the cirt step waits for), without a CLI's start-up. */
async function archiveApi(docker: Docker, name: string): Promise<number> {
  const t0 = performance.now();
  const res = await docker.getContainer(name).getArchive({ path: '/tmp' });
  for await (const chunk of res as AsyncIterable<Buffer>) void chunk;
  return performance.now() - t0;
}

export const fsDiffBench: BenchModule = {
  name: 'fs-diff',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-fsdiff-'));
    const name = `${PREFIX}-${FILES}`;
    try {
      await cleanupPrefix(docker, PREFIX);
      await manyFiles(docker, name);
      const playbook = path.join(dir, 'fs-diff.yaml');
      fs.writeFileSync(
        playbook,
        ['name: bench-fs-diff', 'steps:', '  - id: fs-diff', '    uses: collect:fs-diff', ''].join(
          '\n',
        ),
      );
      const cirt: number[] = [];
      const base: number[] = [];
      const api: number[] = [];
      let requests = 0;
      const dockerCp = (): number => {
        const t0 = performance.now();
        execFileSync('sh', ['-c', `docker cp ${name}:/tmp - > /dev/null`]);
        return performance.now() - t0;
      };
      // Both sides see the same state: warm page cache and engine, files already read once (atime set).
      dockerCp();
      await cirtFsDiff(playbook, name, path.join(dir, 'cases-warm'));
      fs.rmSync(path.join(dir, 'cases-warm'), { recursive: true, force: true });
      for (let i = 0; i < RUNS; i++) {
        // Alternated, so neither side always runs right after the other (a loaded machine drifts).
        const cpFirst = i % 2 === 1;
        if (cpFirst) base.push(dockerCp());
        const casesDir = path.join(dir, `cases-${i}`);
        const r = await cirtFsDiff(playbook, name, casesDir);
        requests = r.requests;
        cirt.push(r.ms);
        fs.rmSync(casesDir, { recursive: true, force: true });
        if (!cpFirst) base.push(dockerCp());
        api.push(await archiveApi(docker, name));
        log(
          `run ${i + 1}: cirt fs-diff ${(r.ms / 1000).toFixed(2)} s (${r.requests} requests), docker cp of /tmp ${(base[i] / 1000).toFixed(2)} s, GET /archive of /tmp ${(api[i] / 1000).toFixed(2)} s`,
        );
      }
      const c = median(cirt);
      const b = median(base);
      return [
        {
          metric: `fs-diff of ${FILES} files added to /tmp, cirt step (median of ${RUNS})`,
          value: `${(c / 1000).toFixed(2)} s, ${requests} archive request(s)`,
        },
        {
          metric: `docker cp CONTAINER:/tmp - (median of ${RUNS})`,
          value: `${(b / 1000).toFixed(2)} s`,
        },
        {
          metric: `GET /containers/…/archive?path=/tmp read to its end, no CLI (median of ${RUNS})`,
          value: `${(median(api) / 1000).toFixed(2)} s`,
        },
        {
          metric: 'fs-diff ratio cirt / docker cp',
          value: (c / b).toFixed(2),
          target: '≤ 3',
          ok: c / b <= 3,
        },
      ];
    } finally {
      await cleanupPrefix(docker, PREFIX);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
