import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { readCase } from '../../src/tui/data/case-reader.js';
import { TimelineIndex } from '../../src/tui/data/timeline-index.js';
import { timelineLayout } from '../../src/tui/layout.js';
import type { TuiServices } from '../../src/tui/services.js';
import { initialState } from '../../src/tui/state/reducer.js';
import { packageRoot } from '../../src/util/pkg.js';
import { synthesizeCase } from './tui-case.js';
import { BenchStdin, BenchStdout } from './tui-tty.js';
import { median, type BenchModule, type BenchRow } from './types.js';

const EVENTS = Number(process.env.BENCH_TUI_EVENTS ?? 1_000_000);
const SIZE = { columns: 120, rows: 40 };
/** A held-down key repeats ~25 times a second: presses are spaced like that, not fired back to back. */
const KEY_GAP_MS = 40;
const fmt = (n: number): string => n.toLocaleString('en-US');
const pct = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)
  ];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function services(): TuiServices {
  return {
    watchContainers: () => () => undefined,
    listPlaybooks: async () => [],
    run: async () => 0,
    readCase: (dir, bundle) => readCase(dir, bundle),
    openTimeline: (dir, onProgress, signal) =>
      TimelineIndex.start(
        path.join(dir, 'timeline', 'timeline.jsonl'),
        (p) => onProgress(p.indexed, p.done, [...p.sources]),
        signal,
      ),
  };
}

/** Key press → the frame showing its effect, in process, through Ink's input parser and renderer. */
async function scrollLatency(
  dir: string,
  log: (l: string) => void,
): Promise<{ indexMs: number; lat: number[]; searchMs: number }> {
  // As `cirt` does (src/cli/commands/tui.ts): React's production build, chosen before React loads.
  process.env.NODE_ENV ??= 'production';
  // Nothing that imports React may be loaded before this point (a dev React with a production
  // reconciler renders nothing): theme.js, App.js and Ink are loaded here.
  const [{ render }, { createElement }, { App }, { RENDER_OPTIONS }, { themeFor }] =
    await Promise.all([
      import('ink'),
      import('react'),
      import('../../src/tui/App.js'),
      import('../../src/tui/launch.js'),
      import('../../src/tui/theme.js'),
    ]);
  const stdout = new BenchStdout(SIZE.columns, SIZE.rows);
  const stdin = new BenchStdin();
  const t0 = performance.now();
  const ready = stdout.next(
    (s) => s.includes(`1/${fmt(EVENTS)} events`) && !s.includes('indexing'),
    120_000,
  );
  const app = render(
    createElement(App, {
      services: services(),
      initial: initialState(SIZE),
      theme: themeFor(process.env),
      fixedSize: true,
      startWith: [{ type: 'timeline:request', dir }],
    }),
    {
      ...RENDER_OPTIONS,
      patchConsole: false,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
    },
  );
  try {
    const indexMs = (await ready) - t0;
    log(`indexed ${fmt(EVENTS)} events and drew them in ${indexMs.toFixed(0)} ms`);
    const page = timelineLayout(SIZE).listRows;
    const plan: [string, (c: number) => number][] = [
      ...Array.from({ length: 150 }, (): [string, (c: number) => number] => ['j', (c) => c + 1]),
      ...Array.from({ length: 30 }, (): [string, (c: number) => number] => [
        '\x1b[6~',
        (c) => c + page,
      ]),
      ...Array.from({ length: 20 }, (): [string, (c: number) => number] => ['k', (c) => c - 1]),
      ...Array.from({ length: 10 }, (_, i): [string, (c: number) => number] =>
        i % 2 ? ['g', () => 0] : ['G', () => EVENTS - 1],
      ),
      ...Array.from({ length: 40 }, (): [string, (c: number) => number] => ['j', (c) => c + 1]),
    ];
    const lat: number[] = [];
    let cursor = 0;
    for (const [key, next] of plan) {
      cursor = Math.max(0, Math.min(EVENTS - 1, next(cursor)));
      const want = `${fmt(cursor + 1)}/${fmt(EVENTS)} events`;
      const frame = stdout.next((s) => s.includes(want));
      const pressed = performance.now();
      stdin.press(key);
      lat.push((await frame) - pressed);
      await sleep(KEY_GAP_MS);
    }
    // One whole-file search, as `/kworkerd⏎` does it.
    const found = stdout.next(
      (s) => s.includes(`1/1 matching of ${fmt(EVENTS)}`) && !s.includes('searching'),
      120_000,
    );
    stdin.press('/');
    await sleep(KEY_GAP_MS);
    stdin.press('kworkerd');
    await sleep(KEY_GAP_MS);
    const s0 = performance.now();
    stdin.press('\r');
    const searchMs = (await found) - s0;
    return { indexMs, lat, searchMs };
  } finally {
    app.unmount();
    app.cleanup();
  }
}

/** The installed bin's file (package.json "bin"), or BENCH_CIRT_BIN for a before/after comparison. */
function installedBin(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as {
    bin: { cirt: string };
  };
  return process.env.BENCH_CIRT_BIN ?? path.join(packageRoot(), pkg.bin.cirt);
}

/** Spawn of the real binary on a pseudo-terminal (util-linux `script`) → its first frame on screen. */
async function firstFrame(): Promise<number> {
  const main = installedBin();
  const t0 = performance.now();
  const child = spawn(
    'script',
    ['-qfec', `${JSON.stringify(process.execPath)} ${JSON.stringify(main)}`, '/dev/null'],
    {
      env: { ...process.env, TERM: 'xterm-256color' },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  try {
    return await new Promise<number>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(
        () => reject(new Error(`no first frame within 10 s: ${JSON.stringify(seen.slice(-300))}`)),
        10_000,
      );
      child.stdout.on('data', (d: Buffer) => {
        seen += d.toString('utf8');
        if (seen.includes('cirt › Containers')) {
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
      child.on('error', reject);
    });
  } finally {
    child.stdin.write('q');
    const exited = new Promise((r) => child.once('exit', r));
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  }
}

export const tuiBench: BenchModule = {
  name: 'tui',
  async run(log) {
    const rows: BenchRow[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-tui-'));
    try {
      const g0 = performance.now();
      const { bytes } = await synthesizeCase(dir, EVENTS);
      log(
        `synthesized ${fmt(EVENTS)} events (${(bytes / 1e6).toFixed(0)} MB) in ${(performance.now() - g0).toFixed(0)} ms`,
      );
      const { indexMs, lat, searchMs } = await scrollLatency(dir, log);
      const p95 = pct(lat, 95);
      rows.push({
        metric: `timeline of ${fmt(EVENTS)} events: index + first frame`,
        value: `${indexMs.toFixed(0)} ms`,
      });
      rows.push({
        metric: `key→frame scrolling (${lat.length} keys: j k PgDn g G), median`,
        value: `${median(lat).toFixed(1)} ms`,
      });
      rows.push({
        metric: 'key→frame scrolling, p95',
        value: `${p95.toFixed(1)} ms`,
        target: '< 50 ms',
        ok: p95 < 50,
      });
      rows.push({ metric: 'key→frame scrolling, max', value: `${Math.max(...lat).toFixed(1)} ms` });
      rows.push({
        metric: `search "kworkerd" over ${fmt(EVENTS)} events`,
        value: `${searchMs.toFixed(0)} ms`,
        target: '≤ 500 ms',
        ok: searchMs <= 500,
      });
      // Baseline: reading the same file once (page cache), the floor of any whole-file search.
      const file = path.join(dir, 'timeline', 'timeline.jsonl');
      const r0 = performance.now();
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.allocUnsafe(8 << 20);
      while (fs.readSync(fd, buf, 0, buf.length, null) > 0);
      fs.closeSync(fd);
      const readMs = performance.now() - r0;
      rows.push({ metric: 'baseline: reading that file once', value: `${readMs.toFixed(0)} ms` });
      rows.push({ metric: 'ratio search / read', value: (searchMs / readMs).toFixed(2) });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const starts: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < 5; i++) {
      starts.push(await firstFrame());
      const b0 = performance.now();
      await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
      bare.push(performance.now() - b0);
    }
    log(`first frames: ${starts.map((s) => s.toFixed(0)).join(', ')} ms`);
    rows.push({
      metric: 'first frame of `cirt` (spawn → Containers screen), median of 5',
      value: `${median(starts).toFixed(0)} ms`,
      target: '≤ 500 ms',
      ok: median(starts) <= 500,
    });
    rows.push({
      metric: 'baseline: node -e 0, median of 5',
      value: `${median(bare).toFixed(0)} ms`,
    });
    rows.push({
      metric: 'ratio first frame / node -e 0',
      value: (median(starts) / median(bare)).toFixed(2),
    });
    rows.push({
      metric: 'first frame of `cirt`, slowest of 5',
      value: `${Math.max(...starts).toFixed(0)} ms`,
      target: '< 1000 ms',
      ok: Math.max(...starts) < 1000,
    });
    return rows;
  },
};
