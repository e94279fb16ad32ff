/**
 * Child process of the timeline benchmark: runs the real evidence:timeline action on a case folder
 * and prints one JSON line with its wall time, event count and the process's peak RSS (VmHWM).
 * A separate process so the peak belongs to the timeline alone.
 */
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { evidenceTimeline } from '../../src/actions/evidence-timeline.js';
import { makeContext } from '../../src/runner/context.js';
import { EventBus } from '../../src/runner/events.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';

async function main(root: string): Promise<void> {
  const store = await CaseStore.open(root);
  // evidence:timeline reads only the case folder; it never touches the engine.
  const runtime = {
    info: {
      kind: 'none',
      address: 'none',
      local: true,
      version: '',
      apiVersion: '',
      os: '',
      kernel: '',
    },
    capabilities: new Set(),
  } as unknown as ContainerRuntime;
  const target = {
    id: store.caseInfo.target.id,
    name: store.caseInfo.target.name,
    image: '',
    imageId: '',
    state: 'exited',
    running: false,
    paused: false,
    pid: 0,
  };
  const { ctx } = makeContext({
    runtime,
    target,
    store,
    stepId: 'timeline',
    action: 'evidence:timeline',
    signal: new AbortController().signal,
    bus: new EventBus(),
  });
  const t0 = performance.now();
  const r = await evidenceTimeline.run(ctx, evidenceTimeline.params.parse({}));
  const ms = performance.now() - t0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  process.stdout.write(
    `${JSON.stringify({ ms, events: (r.details as { events: number }).events, hwmKiB: Number(hwm?.[1] ?? 0) })}\n`,
  );
}

main(process.argv[2]).catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
