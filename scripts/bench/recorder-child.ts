/**
 * Child process of the recorder benchmark, so the CPU time measured is one process's own:
 * `idle SECONDS` is the baseline (a node process with a timer and nothing to do);
 * `record DIR SECONDS` runs the real flight recorder on the engine (default snapshot interval).
 * Prints one JSON line: CPU ms (user + system), wall ms, and the recorder's stats.
 */
import { connect } from '../../src/app/env.js';
import { startRecorder } from '../../src/journal/recorder.js';

const cpuMs = (c: NodeJS.CpuUsage): number => (c.user + c.system) / 1000;

async function main(mode: string, args: string[]): Promise<void> {
  const seconds = Number(args[mode === 'idle' ? 0 : 1]);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  let t1 = t0;
  let c1 = c0;
  let startup: unknown = null;
  let stats: unknown = null;
  if (mode === 'idle') {
    const t = setInterval(() => undefined, 10_000);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    clearInterval(t);
  } else {
    const runtime = await connect({ cwd: process.cwd(), env: process.env });
    const rec = await startRecorder({ runtime, engineName: runtime.info.address, dir: args[0] });
    // Steady state: from the end of the first snapshot (which meets every container once).
    while (rec.stats().snapshots < 1) await new Promise((r) => setTimeout(r, 20));
    startup = { cpuMs: cpuMs(process.cpuUsage(c0)), wallMs: performance.now() - t0 };
    t1 = performance.now();
    c1 = process.cpuUsage();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    stats = rec.stats();
    await rec.stop();
    runtime.close();
  }
  const c = process.cpuUsage(c1);
  process.stdout.write(
    `${JSON.stringify({ cpuMs: cpuMs(c), wallMs: performance.now() - t1, startup, stats })}\n`,
  );
}

main(process.argv[2], process.argv.slice(3)).catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
