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

/**
 * Start-up where the responder waits: process start → the container is off its network, for
 * `cirt run contain` through the installed bin, against the docker CLI's four commands for the same
 * containment (pause, network disconnect, network connect, update --restart=no) on a twin container
 * in the same run. The cut is the engine's own `disconnect` event time (same host clock).
 * The installed bin is what `npm i -g` creates: a symlink `bin/cirt` → the package's bin file.
 */
const PREFIX = 'cirt-bench-startup';
const RUNS = Math.max(3, Number(process.env.BENCH_STARTUP_RUNS ?? 7));
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// BENCH_CIRT_BIN: another entry (e.g. the previous commit's dist/src/cli/main.js) for before/after.
const BIN_TARGET =
  process.env.BENCH_CIRT_BIN ??
  path.join(
    ROOT,
    (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        bin: { cirt: string };
      }
    ).bin.cirt,
  );
const QUARANTINE = `${PREFIX}-q`;

function timed(file: string, args: string[], cwd?: string): number {
  const t0 = performance.now();
  execFileSync(file, args, { cwd, stdio: 'ignore' });
  return performance.now() - t0;
}

/** A fresh running container on its own bridge network. */
async function victim(docker: Docker, name: string): Promise<{ id: string; network: string }> {
  const net = await docker.createNetwork({
    Name: `${name}-net`,
    Labels: { 'cirt.lab.prefix': PREFIX },
  });
  const c = await docker.createContainer({
    name,
    Image: LAB_IMAGE,
    Cmd: ['sleep', '2147483647'],
    Labels: { 'cirt.lab.prefix': PREFIX },
    HostConfig: { NetworkMode: `${name}-net`, RestartPolicy: { Name: 'unless-stopped' } },
  });
  await c.start();
  return { id: c.id, network: net.id };
}

/** Wall-clock ms (epoch) of the engine's first `disconnect` event for `id`, waited for up to 10 s. */
async function cutAt(docker: Docker, id: string, since: number): Promise<() => Promise<number>> {
  const stream = (await docker.getEvents({
    since: Math.floor(since / 1000) - 1,
    // A network event names the container in its attributes (the `container` filter is for
    // container events), so the stream is filtered here.
    filters: { type: ['network'], event: ['disconnect'] },
  })) as NodeJS.ReadableStream & { destroy(): void };
  const first = new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no disconnect event for ${id}`)), 30_000);
    stream.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n').slice(0, -1)) {
        const e = JSON.parse(line) as {
          timeNano: number;
          Actor?: { Attributes?: { container?: string } };
        };
        if (e.Actor?.Attributes?.container !== id) continue;
        clearTimeout(timer);
        resolve(e.timeNano / 1e6);
      }
      buf = buf.slice(buf.lastIndexOf('\n') + 1);
    });
  });
  return async () => {
    try {
      return await first;
    } finally {
      stream.destroy();
    }
  };
}

/** Spawns the bin as a shell would (the kernel runs its #! line) and returns when it exits. */
function runBin(bin: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(code) : reject(new Error(`${bin} exited ${code}: ${err.slice(-1500)}`)),
    );
  });
}

const row = (metric: string, ms: number): BenchRow => ({ metric, value: `${ms.toFixed(0)} ms` });

export const startupBench: BenchModule = {
  name: 'startup',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    await ensureImage(docker);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-startup-'));
    fs.mkdirSync(path.join(dir, 'bin'));
    const bin = path.join(dir, 'bin', 'cirt');
    fs.symlinkSync(BIN_TARGET, bin);
    const playbook = path.join(dir, 'contain.yaml');
    // The shipped playbook with its own quarantine network name, so the bench never touches cirt-quarantine.
    fs.writeFileSync(
      playbook,
      fs
        .readFileSync(path.join(ROOT, 'playbooks', 'contain.yaml'), 'utf8')
        .replace('network: cirt-quarantine', `network: ${QUARANTINE}`),
    );
    const cut: number[] = [];
    const whole: number[] = [];
    const cli: number[] = [];
    try {
      await cleanupPrefix(docker, PREFIX);
      // Run 0 is a warm-up (it also creates the quarantine network and fills the page cache).
      for (let i = 0; i <= RUNS; i++) {
        const a = await victim(docker, `${PREFIX}-${i}a`);
        const t0 = Date.now();
        const waitCut = await cutAt(docker, a.id, t0);
        const p0 = performance.now();
        await runBin(bin, [
          'run',
          playbook,
          '-t',
          `${PREFIX}-${i}a`,
          '--yes',
          '--json',
          '--cases-dir',
          path.join(dir, 'cases'),
        ]);
        const w = performance.now() - p0;
        const c = (await waitCut()) - t0;
        const b = await victim(docker, `${PREFIX}-${i}b`);
        const d0 = performance.now();
        execFileSync('docker', ['pause', b.id], { stdio: 'ignore' });
        execFileSync('docker', ['network', 'disconnect', b.network, b.id], { stdio: 'ignore' });
        execFileSync('docker', ['network', 'connect', QUARANTINE, b.id], { stdio: 'ignore' });
        execFileSync('docker', ['update', '--restart=no', b.id], { stdio: 'ignore' });
        const d = performance.now() - d0;
        log(
          `run ${i}${i ? '' : ' (warm-up)'}: cirt start → cut ${c.toFixed(0)} ms (whole run ${w.toFixed(0)} ms); docker CLI four commands ${d.toFixed(0)} ms`,
        );
        if (i > 0) [cut, whole, cli].forEach((arr, k) => arr.push([c, w, d][k]));
      }
      const version: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        version.push(timed(bin, ['--version']));
        bare.push(timed(process.execPath, ['-e', '0']));
      }
      // npx resolves the package (and may build it) before running it; its first call is a warm-up.
      const npx: number[] = [];
      timed('npx', ['cirt', '--version'], ROOT);
      for (let i = 0; i < 3; i++) npx.push(timed('npx', ['cirt', '--version'], ROOT));
      const [mc, mw, md, mv, mb, mn] = [cut, whole, cli, version, bare, npx].map(median);
      return [
        row(`cirt run contain: process start → network cut (median of ${RUNS})`, mc),
        {
          metric: 'start → cut, absolute',
          value: `${mc.toFixed(0)} ms`,
          target: '≤ 400 ms',
          ok: mc <= 400,
        },
        row(`docker CLI: pause, network disconnect/connect, update (median of ${RUNS})`, md),
        {
          metric: 'ratio cirt start → cut / docker CLI four commands',
          value: (mc / md).toFixed(2),
          target: '≤ 2.5',
          ok: mc / md <= 2.5,
        },
        row('cirt run contain: whole process (informational)', mw),
        row(`cirt --version, installed bin (median of ${RUNS})`, mv),
        row('node -e 0 (median)', mb),
        { metric: 'ratio cirt --version / node -e 0', value: (mv / mb).toFixed(2) },
        row('npx cirt --version (median of 3, after a warm-up)', mn),
        { metric: 'ratio npx / installed bin, --version', value: (mn / mv).toFixed(2) },
      ];
    } finally {
      await cleanupPrefix(docker, PREFIX);
      await docker
        .getNetwork(QUARANTINE)
        .remove()
        .catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
