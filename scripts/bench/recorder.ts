import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { connectEngine } from '../../src/docker/connection.js';
import { queryJournal } from '../../src/journal/query.js';
import { startRecorder } from '../../src/journal/recorder.js';
import { verifyJournal } from '../../src/journal/verify.js';
import { JournalWriter } from '../../src/journal/writer.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { ensureImage, LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix } from '../../test/fixtures/lab.js';
import type { BenchModule, BenchRow } from './types.js';

const PREFIX = 'cirt-bench-recorder';
const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'recorder-child.js');
const IDLE = Math.max(1, Number(process.env.BENCH_RECORDER_CONTAINERS ?? 50));
const SECONDS = Math.max(10, Number(process.env.BENCH_RECORDER_SECONDS ?? 60));
const RATE = 1000;
const BURST_SECONDS = Math.max(2, Number(process.env.BENCH_RECORDER_BURST_SECONDS ?? 10));

function child(args: string[]): Promise<{ cpuMs: number; wallMs: number; stats: unknown }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CHILD, ...args],
      { timeout: (SECONDS + 120) * 1000 },
      (err, out) => {
        if (err) return reject(err);
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '{}') as never);
      },
    );
  });
}

/** A realistic engine event line at `ns`. */
function eventLine(i: number, ns: bigint): string {
  const id = (i % 50).toString(16).padStart(64, 'a');
  return `{"status":"kill","id":"${id}","from":"${LAB_IMAGE}","Type":"container","Action":"kill","Actor":{"ID":"${id}","Attributes":{"image":"${LAB_IMAGE}","name":"${PREFIX}-${i % 50}","signal":"28"}},"scope":"local","time":${ns / 1_000_000_000n},"timeNano":${ns}}`;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Calls `fn(i)` RATE times a second for `seconds`, in 10 ms ticks; returns each call's duration (ms). */
async function paced(seconds: number, fn: (i: number) => void): Promise<number[]> {
  const total = RATE * seconds;
  const took: number[] = [];
  const start = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
    for (; i < due; i++) {
      const t = performance.now();
      fn(i);
      took.push(performance.now() - t);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return took.sort((a, b) => a - b);
}

/** The engine side of the 1,000 events/s run: a runtime whose event stream emits RATE lines a second. */
function syntheticRuntime(total: number): ContainerRuntime {
  return {
    info: {
      kind: 'synthetic',
      address: 'synthetic',
      local: false,
      version: '',
      apiVersion: '',
      os: '',
      kernel: '',
    },
    capabilities: new Set(),
    eventStream: () => {
      const base = BigInt(Date.now()) * 1_000_000n;
      const start = performance.now();
      let i = 0;
      const stream = new Readable({ read() {} });
      const tick = setInterval(() => {
        const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
        const lines: string[] = [];
        for (; i < due; i++) lines.push(eventLine(i, base + BigInt(i) * 1_000_000n));
        if (lines.length) stream.push(`${lines.join('\n')}\n`);
        // Stays open after the last line, as the engine's stream does.
        if (i >= total) clearInterval(tick);
      }, 10);
      return Promise.resolve({ stream, source: 'synthetic' });
    },
  } as unknown as ContainerRuntime;
}

export const recorderBench: BenchModule = {
  name: 'recorder',
  async run(log) {
    const rows: BenchRow[] = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-recorder-'));
    const { docker } = await connectEngine(undefined, process.env);
    try {
      // 1. CPU with IDLE idle containers at the default interval, against an idle node process.
      await ensureImage(docker);
      await cleanupPrefix(docker, PREFIX);
      log(`starting ${IDLE} idle containers`);
      for (let i = 0; i < IDLE; i += 10)
        await Promise.all(
          Array.from({ length: Math.min(10, IDLE - i) }, async (_, k) => {
            const c = await docker.createContainer({
              name: `${PREFIX}-${i + k}`,
              Image: LAB_IMAGE,
              Cmd: ['sleep', '2147483647'],
              Labels: { 'cirt.lab.prefix': PREFIX },
              HostConfig: { NetworkMode: 'none' },
            });
            await c.start();
          }),
        );
      log(`recording ${SECONDS} s (and ${SECONDS} s of an idle node process)`);
      const [rec, idle] = await Promise.all([
        child(['record', path.join(tmp, 'idle-journal'), String(SECONDS)]),
        child(['idle', String(SECONDS)]),
      ]);
      const recPct = (rec.cpuMs / rec.wallMs) * 100;
      const idlePct = (idle.cpuMs / idle.wallMs) * 100;
      const snaps = (rec.stats as { snapshots?: number } | null)?.snapshots ?? 0;
      rows.push({
        metric: `recorder CPU, ${IDLE} idle containers, 10 s snapshots (${snaps} in ${SECONDS} s), % of one core`,
        value: `${recPct.toFixed(2)} % (idle node process: ${idlePct.toFixed(2)} %, ratio ${(recPct / Math.max(idlePct, 0.01)).toFixed(1)}x)`,
        target: '≤ 2 %',
        ok: recPct <= 2,
      });

      // 2. 1,000 events/s through the whole recorder (feed, parse, hash, write): nothing lost.
      const burst = RATE * BURST_SECONDS;
      log(`${burst} synthetic events at ${RATE}/s through the recorder`);
      const dir = path.join(tmp, 'burst-journal');
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await startRecorder({
        runtime: syntheticRuntime(burst),
        engineName: 'synthetic',
        dir,
        snapshotIntervalMs: 0,
      });
      const deadline = Date.now() + (BURST_SECONDS + 30) * 1000;
      while (r.stats().events < burst && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 50));
      const wall = performance.now() - t0;
      await r.stop();
      const cpu = process.cpuUsage(c0);
      const recorded = [...queryJournal(dir, {})].filter(
        (l) => l.rec.kind === 'engine:event',
      ).length;
      rows.push({
        metric: `${burst} events at ${RATE}/s: recorded (no loss), CPU % of one core`,
        value: `${recorded} of ${burst}, ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(1)} %, journal verifies: ${verifyJournal(dir).ok ? 'yes' : 'NO'}`,
        target: `= ${burst}`,
        ok: recorded === burst,
      });

      // 3. Append latency at 1,000/s: the journal writer against a raw appendFileSync of the same lines.
      const key = generateKeyPairSync('ed25519').privateKey;
      const w = JournalWriter.open({ dir: path.join(tmp, 'latency-journal'), key });
      w.start({ engine: 'synthetic' });
      const base = BigInt(Date.now()) * 1_000_000n;
      const id = 'a'.repeat(64);
      const journalMs = await paced(BURST_SECONDS, (i) => {
        const raw = eventLine(i, base + BigInt(i));
        w.append('engine:event', {
          container: id,
          ns: String(base + BigInt(i)),
          type: 'container',
          action: 'kill',
          raw,
        });
      });
      w.close();
      const rawFile = path.join(tmp, 'raw.jsonl');
      const rawMs = await paced(BURST_SECONDS, (i) =>
        fs.appendFileSync(rawFile, `${eventLine(i, base + BigInt(i))}\n`),
      );
      const p99 = pct(journalMs, 99);
      const p99raw = pct(rawMs, 99);
      rows.push({
        metric: `append latency at ${RATE}/s, p50 / p99 (baseline: appendFileSync of the same lines)`,
        value: `${pct(journalMs, 50).toFixed(3)} / ${p99.toFixed(3)} ms (raw ${pct(rawMs, 50).toFixed(3)} / ${p99raw.toFixed(3)} ms, p99 ratio ${(p99 / Math.max(p99raw, 0.001)).toFixed(2)}x)`,
        target: 'p99 ≤ 5 ms',
        ok: p99 <= 5,
      });
    } finally {
      await cleanupPrefix(docker, PREFIX);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    return rows;
  },
};
