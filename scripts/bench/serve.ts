import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { connectEngine } from '../../src/docker/connection.js';
import { QUARANTINE_LABEL } from '../../src/runtime/quarantine.js';
import type { ServeEvent } from '../../src/serve/dispatch.js';
import { startService } from '../../src/serve/service.js';
import { ensureImage, LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix } from '../../test/fixtures/lab.js';
import type { BenchModule } from './types.js';

const ALERTS = Math.max(10, Number(process.env.BENCH_SERVE_ALERTS ?? 50));
const BASELINE = Math.max(3, Number(process.env.BENCH_SERVE_BASELINE ?? 10));
const PREFIX = 'cirt-bench-serve';
const QUARANTINE = `${PREFIX}-quarantine`;
const TOKEN = 'bench-token-0123456789abcdef';
const MAIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'src',
  'cli',
  'main.js',
);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/`,
      { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Puts the container back on its own network, off quarantine, so the next alert cuts it again. */
async function reconnect(docker: Docker, id: string, net: string): Promise<void> {
  const info = await docker.getContainer(id).inspect();
  const nets = Object.keys(info.NetworkSettings.Networks);
  if (nets.includes(QUARANTINE))
    await docker.getNetwork(QUARANTINE).disconnect({ Container: id, Force: true });
  if (!nets.includes(net)) await docker.getNetwork(net).connect({ Container: id });
}

/** A fresh `cirt run --alert FILE --yes --json` process: spawn to the isolate step's end on its stdout. */
function baselineOnce(dir: string, alertFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      MAIN,
      '--cases-dir',
      path.join(dir, 'cases-cli'),
      'run',
      path.join(dir, 'isolate.yaml'),
      '--alert',
      alertFile,
      '--yes',
      '--json',
    ],
    { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  let at = 0;
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    if (
      !at &&
      /"type":"step:end"[^\n]*"uses":"contain:network-isolate"[^\n]*"status":"ok"/.test(out)
    )
      at = performance.now();
  });
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) =>
      at
        ? resolve(at - t0)
        : reject(new Error(`cirt run exited ${code} without isolating: ${err}${out.slice(-400)}`)),
    ),
  );
}

export const serveBench: BenchModule = {
  name: 'serve',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-serve-'));
    const env = { ...process.env, CIRT_LOCK_DIR: path.join(dir, 'locks') };
    fs.mkdirSync(env.CIRT_LOCK_DIR);
    const net = `${PREFIX}-net`;
    const cut: number[] = [];
    const acks: number[] = [];
    const base: number[] = [];
    try {
      await cleanupPrefix(docker, PREFIX);
      await ensureImage(docker);
      await docker.createNetwork({ Name: net, Labels: { 'cirt.lab.prefix': PREFIX } });
      await docker.createNetwork({
        Name: QUARANTINE,
        Internal: true,
        Labels: { [QUARANTINE_LABEL]: '1', 'cirt.lab.prefix': PREFIX },
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      });
      const c = await docker.createContainer({
        name: `${PREFIX}-victim`,
        Image: LAB_IMAGE,
        Cmd: ['sleep', '3600'],
        Labels: { 'cirt.lab.prefix': PREFIX },
        HostConfig: { NetworkMode: net },
      });
      await c.start();
      const alert = JSON.stringify({
        rule: 'Terminal shell in container',
        priority: 'Critical',
        output_fields: { 'container.id': c.id.slice(0, 12), 'proc.cmdline': 'sh -i' },
      });
      fs.writeFileSync(path.join(dir, 'alert.json'), alert);
      fs.writeFileSync(path.join(dir, 'token'), TOKEN);
      fs.writeFileSync(
        path.join(dir, 'isolate.yaml'),
        `name: bench-isolate\nsteps:\n  - uses: contain:network-isolate\n    with:\n      network: ${QUARANTINE}\n`,
      );
      // dedup 0s: every alert is its own run, so each one is a network cut to time.
      fs.writeFileSync(
        path.join(dir, 'serve.yaml'),
        `listen: 127.0.0.1:0\ntoken_file: token\ncases_dir: cases\nrules:\n  - name: isolate\n    playbook: isolate.yaml\n    auto_approve: true\n    dedup: 0s\n`,
      );
      let cutAt: ((t: number) => void) | undefined;
      const service = await startService({
        configFile: path.join(dir, 'serve.yaml'),
        env: { cwd: dir, env },
        log: () => undefined,
        onEvent: (e: ServeEvent) => {
          if (
            e.type === 'run' &&
            e.event.type === 'step:end' &&
            e.event.uses === 'contain:network-isolate'
          )
            cutAt?.(e.event.status === 'ok' ? performance.now() : NaN);
        },
      });
      try {
        // Alert 0 is a warm-up (first engine calls, first case folder) and is not counted.
        for (let i = 0; i <= ALERTS; i++) {
          await reconnect(docker, c.id, net);
          const done = new Promise<number>((resolve) => (cutAt = resolve));
          const t0 = performance.now();
          const status = await post(service.url, alert);
          const ack = performance.now() - t0;
          if (status !== 202) throw new Error(`alert ${i}: HTTP ${status}`);
          const t1 = await done;
          if (Number.isNaN(t1)) throw new Error(`alert ${i}: the isolate step did not end ok`);
          await service.idle();
          if (i > 0) {
            cut.push(t1 - t0);
            acks.push(ack);
          }
        }
      } finally {
        await service.stop();
      }
      log(
        `serve: ${ALERTS} alerts, cut p50 ${pct(cut, 50).toFixed(1)} ms, p95 ${pct(cut, 95).toFixed(1)} ms`,
      );
      for (let i = 0; i <= BASELINE; i++) {
        await reconnect(docker, c.id, net);
        const t = await baselineOnce(dir, path.join(dir, 'alert.json'), env);
        if (i > 0) base.push(t);
        log(`baseline ${i}${i ? '' : ' (warm-up)'}: ${t.toFixed(0)} ms`);
      }
    } finally {
      await cleanupPrefix(docker, PREFIX);
      for (const n of [QUARANTINE, net])
        await docker
          .getNetwork(n)
          .remove()
          .catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const p95 = pct(cut, 95);
    const ratio = pct(base, 50) / pct(cut, 50);
    return [
      {
        metric: `alert received → network cut, cirt serve, p50 (${ALERTS} alerts)`,
        value: `${pct(cut, 50).toFixed(1)} ms`,
      },
      {
        metric: `alert received → network cut, cirt serve, p95 (${ALERTS} alerts)`,
        value: `${p95.toFixed(1)} ms`,
        target: '≤ 300 ms',
        ok: p95 <= 300,
      },
      {
        metric: `same alert, fresh \`cirt run --alert\` process, p50 (${BASELINE} runs)`,
        value: `${pct(base, 50).toFixed(0)} ms`,
      },
      {
        metric: `same alert, fresh \`cirt run --alert\` process, p95 (${BASELINE} runs)`,
        value: `${pct(base, 95).toFixed(0)} ms`,
      },
      {
        metric: 'ratio fresh process / serve (p50)',
        value: ratio.toFixed(1),
        target: '≥ 1',
        ok: ratio >= 1,
      },
      {
        metric: `HTTP 202 answer, p95 (${ALERTS} alerts)`,
        value: `${pct(acks, 95).toFixed(1)} ms`,
        target: '≤ 50 ms',
        ok: pct(acks, 95) <= 50,
      },
    ];
  },
};
