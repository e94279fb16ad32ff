import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { writeBenchCase } from './timeline-case.js';
import type { BenchModule, BenchRow } from './types.js';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'timeline-child.js');
const FILES = 10_000;
const SIZES = [250_000, 1_000_000];

interface Run {
  ms: number;
  events: number;
  hwmKiB: number;
}

async function runChild(root: string): Promise<Run> {
  const { stdout } = await promisify(execFile)(process.execPath, [CHILD, root], {
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim()) as Run;
}

/** evidence:timeline on synthetic cases of 250 000 and 1 000 000 log lines (+ 10 000 file changes). */
export const timelineBench: BenchModule = {
  name: 'timeline',
  async run(log) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-timeline-'));
    try {
      const runs: Run[] = [];
      for (const lines of SIZES) {
        const root = path.join(dir, `case-${lines}`);
        await writeBenchCase(root, lines, FILES);
        const r = await runChild(root);
        runs.push(r);
        log(
          `${lines} log lines + ${FILES} file changes: ${r.events} events in ${(r.ms / 1000).toFixed(2)} s, peak RSS ${(r.hwmKiB / 1024).toFixed(0)} MiB`,
        );
      }
      const [small, big] = runs;
      const n = SIZES[1] / SIZES[0];
      const nlogn = n * (Math.log(SIZES[1]) / Math.log(SIZES[0]));
      const growth = big.ms / small.ms;
      const rows: BenchRow[] = [
        {
          metric: `evidence:timeline, ${SIZES[0] / 1000}k log lines + 10k file changes`,
          value: `${(small.ms / 1000).toFixed(2)} s, ${(small.hwmKiB / 1024).toFixed(0)} MiB peak RSS`,
        },
        {
          metric: `evidence:timeline, 1M log lines + 10k file changes (wall)`,
          value: `${(big.ms / 1000).toFixed(2)} s`,
          target: '≤ 8 s',
          ok: big.ms <= 8_000,
        },
        {
          metric: 'evidence:timeline, 1M log lines (peak RSS, VmHWM)',
          value: `${(big.hwmKiB / 1024).toFixed(0)} MiB`,
          target: '≤ 300 MiB',
          ok: big.hwmKiB <= 300 * 1024,
        },
        {
          metric: `time growth ${SIZES[0] / 1000}k → 1M lines (×${n} input)`,
          value: `×${growth.toFixed(2)}`,
          target: `≤ ×${nlogn.toFixed(2)} (n log n)`,
          ok: growth <= nlogn,
        },
        {
          metric: 'events per second at 1M lines',
          value: `${Math.round(big.events / (big.ms / 1000)).toLocaleString('en')}`,
        },
      ];
      return rows;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
