import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { runCommand } from '../../src/cli/commands/run.js';
import { connectEngine } from '../../src/docker/connection.js';
import { isVvar, parseMaps } from '../../src/collect/elf-core.js';
import type { RunEvent } from '../../src/runner/events.js';
import { ensureImage, LAB_IMAGE } from '../../test/fixtures/images.js';
import { cleanupPrefix, hostPid, waitFor } from '../../test/fixtures/lab.js';
import { median, type BenchModule } from './types.js';

const RUNS = Math.max(3, Number(process.env.BENCH_MEMORY_RUNS ?? 5));
const PREFIX = 'cirt-bench-memory';
const MIB = Number(process.env.BENCH_MEMORY_MIB ?? 128);
const PAGE = 4096;

/**
 * collect:memory against UAC's way of dumping a process: `dd` over /proc/<pid>/mem, one dd per
 * readable range of /proc/<pid>/maps (the same ranges cirt reads), into a file. Both on the same
 * frozen process, which holds a MIB-sized shell variable in its heap. cirt also hashes and writes
 * the ELF headers and sidecar; dd only copies.
 */
export const memoryBench: BenchModule = {
  name: 'memory',
  async run(log) {
    const { docker } = await connectEngine(undefined, process.env);
    await ensureImage(docker);
    await cleanupPrefix(docker, PREFIX);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bench-memory-'));
    const name = `${PREFIX}-victim`;
    try {
      const c = await docker.createContainer({
        name,
        Image: LAB_IMAGE,
        Cmd: [
          'sh',
          '-c',
          `X=$(dd if=/dev/zero bs=1048576 count=${MIB} 2>/dev/null | tr '\\000' A); touch /tmp/ready; while :; do sleep 1; done`,
        ],
        Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': PREFIX },
        HostConfig: { NetworkMode: 'none' },
      });
      await c.start();
      const pid = await hostPid(docker, c.id);
      await waitFor(
        'the bench victim to fill its memory',
        async () => fs.existsSync(`/proc/${pid}/root/tmp/ready`),
        60_000,
      );
      await c.pause();
      const playbook = path.join(tmp, 'mem.yaml');
      fs.writeFileSync(
        playbook,
        `name: mem\nsteps:\n  - uses: collect:memory\n    with: { pids: [${pid}], maxProcessBytes: 4GiB, maxTotalBytes: 4GiB }\n`,
      );
      const ranges = parseMaps(fs.readFileSync(`/proc/${pid}/maps`, 'utf8')).maps.filter(
        (m) => m.perms[0] === 'r' && !isVvar(m) && m.end < BigInt(Number.MAX_SAFE_INTEGER),
      );
      const bytes = ranges.reduce((n, m) => n + Number(m.end - m.start), 0);
      const cirt: number[] = [];
      const dd: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        let start = 0;
        let end = 0;
        const listener = (e: RunEvent): void => {
          if (e.type === 'step:start') start = performance.now();
          if (e.type === 'step:end') end = performance.now();
        };
        const sink = new Writable({ write: (_c, _e, cb) => cb() });
        const casesDir = path.join(tmp, 'cases');
        const r = await runCommand(
          { playbook, target: name, caseId: `m-${i}`, casesDir, yes: true, listeners: [listener] },
          { out: sink, err: sink, interactive: false, env: process.env, cwd: tmp },
        );
        if (r.exitCode !== 0) throw new Error(`collect:memory run ${i} ended ${r.status}`);
        cirt.push(end - start);
        fs.rmSync(path.join(casesDir, `m-${i}`), { recursive: true, force: true });

        const out = path.join(tmp, `dd-${i}.raw`);
        const t0 = performance.now();
        for (const m of ranges)
          execFileSync('dd', [
            `if=/proc/${pid}/mem`,
            `of=${out}`,
            'oflag=append',
            'conv=notrunc',
            `bs=${PAGE}`,
            `skip=${Number(m.start) / PAGE}`,
            `count=${Number(m.end - m.start) / PAGE}`,
            'status=none',
          ]);
        dd.push(performance.now() - t0);
        fs.rmSync(out, { force: true });
      }
      const mib = bytes / 1048576;
      const cirtRate = mib / (median(cirt) / 1000);
      const ddRate = mib / (median(dd) / 1000);
      log(
        `${mib.toFixed(1)} MiB in ${ranges.length} ranges; cirt ${median(cirt).toFixed(0)} ms, dd ${median(dd).toFixed(0)} ms (median of ${RUNS})`,
      );
      const ratio = cirtRate / ddRate;
      return [
        {
          metric: `collect:memory MiB/s (${mib.toFixed(0)} MiB process)`,
          value: cirtRate.toFixed(0),
        },
        { metric: 'dd over /proc/<pid>/mem MiB/s (UAC baseline)', value: ddRate.toFixed(0) },
        {
          metric: 'collect:memory rate / dd rate',
          value: ratio.toFixed(2),
          target: '≥ 0.8',
          ok: ratio >= 0.8,
        },
      ];
    } finally {
      await docker
        .getContainer(name)
        .unpause()
        .catch(() => undefined);
      await cleanupPrefix(docker, PREFIX);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  },
};
