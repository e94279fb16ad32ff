/**
 * `npm run bench`: runs each benchmark module in order and prints one table.
 * Add a module by importing it and adding it to MODULES (one line each).
 */
import { collectBench } from './bench/collect.js';
import { containBench } from './bench/contain.js';
import { egressBench } from './bench/egress.js';
import { fsDiffBench } from './bench/fs-diff.js';
import { recorderBench } from './bench/recorder.js';
import { sealBench } from './bench/seal.js';
import { startupBench } from './bench/startup.js';
import { memoryBench } from './bench/memory.js';
import { serveBench } from './bench/serve.js';
import { incidentBench } from './bench/incident.js';
import { timelineBench } from './bench/timeline.js';
import { tuiBench } from './bench/tui.js';
import type { BenchModule, BenchRow } from './bench/types.js';

const MODULES: BenchModule[] = [
  startupBench,
  containBench,
  egressBench,
  collectBench,
  fsDiffBench,
  tuiBench,
  timelineBench,
  recorderBench,
  sealBench,
  memoryBench,
  serveBench,
  incidentBench,
];

async function main(): Promise<number> {
  const rows: (BenchRow & { bench: string })[] = [];
  let failed = 0;
  // BENCH_ONLY=fs-diff,collect runs only those modules.
  const only = process.env.BENCH_ONLY?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const m of MODULES.filter((x) => !only?.length || only.includes(x.name))) {
    process.stderr.write(`bench ${m.name}…\n`);
    try {
      for (const r of await m.run((line) => process.stderr.write(`  ${line}\n`)))
        rows.push({ bench: m.name, ...r });
    } catch (err) {
      failed++;
      rows.push({ bench: m.name, metric: 'error', value: (err as Error).message, ok: false });
    }
  }
  const table = rows.map((r) => [
    r.bench,
    r.metric,
    r.value,
    r.target ?? '',
    r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
  ]);
  const head = ['bench', 'metric', 'value', 'target', 'met'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
  for (const t of [head, ...table])
    process.stdout.write(
      `${t
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd()}\n`,
    );
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
    process.exitCode = 1;
  },
);
