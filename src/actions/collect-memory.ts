import { z } from 'zod';
import { PreconditionError } from '../errors.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { isGone } from '../host/proc.js';
import type { HostView } from '../host/view.js';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import { isVvar, MAX_LOADS, PAGE, parseMaps, planCore, type Mapping } from '../collect/elf-core.js';
import { bytesParam } from '../util/bytes-param.js';
import { writeChunk } from '../util/streams.js';
import { safeText } from '../util/sanitize.js';

const CHUNK = 1024 * 1024;
/** /proc/<pid>/maps is bounded by the kernel (vm.max_map_count lines), but not its path text. */
const MAX_MAPS_BYTES = 64 * 1024 * 1024;

/** One mapping as the sidecar (memory/<pid>.json) records it. */
interface MappingRecord {
  start: string;
  end: string;
  perms: string;
  offset: string;
  dev: string;
  inode: number;
  path: string;
  /** `read`: all bytes in the core; `partial`: some ranges zero-filled; `clipped`: budget; `skipped`: not read. */
  status: 'read' | 'partial' | 'clipped' | 'skipped';
  /** PT_LOAD index in the core (0-based among the loads), when it has one. */
  load?: number;
  fileBytes: number;
  /** Ranges (absolute addresses, hex) that could not be read and are zeros in the core. */
  unreadable?: [string, string][];
  reason?: string;
}

const hex = (n: bigint | number): string => `0x${n.toString(16)}`;

async function readAll(host: HostView, file: string, max: number): Promise<string> {
  const fh = await host.open(file);
  try {
    const chunks: Buffer[] = [];
    let n = 0;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (!bytesRead) break;
      n += bytesRead;
      if (n > max) throw new Error(`${file} is larger than ${max} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await fh.close().catch(() => undefined);
  }
}

/**
 * Reads [addr, addr+len) of /proc/<pid>/mem into `out`; pages that fail are zeros and returned as
 * ranges. A whole chunk is tried first; only a failing chunk is retried page by page.
 */
async function readRange(
  mem: import('node:fs/promises').FileHandle,
  addr: number,
  out: Buffer,
): Promise<[number, number][]> {
  const bad: [number, number][] = [];
  const tryRead = async (off: number, len: number): Promise<boolean> => {
    try {
      let got = 0;
      while (got < len) {
        const { bytesRead } = await mem.read(out, off + got, len - got, addr + off + got);
        if (!bytesRead) return false;
        got += bytesRead;
      }
      return true;
    } catch {
      return false;
    }
  };
  if (await tryRead(0, out.length)) return bad;
  for (let off = 0; off < out.length; off += PAGE) {
    const len = Math.min(PAGE, out.length - off);
    if (await tryRead(off, len)) continue;
    out.fill(0, off, off + len);
    const last = bad[bad.length - 1];
    if (last && last[1] === addr + off) last[1] = addr + off + len;
    else bad.push([addr + off, addr + off + len]);
  }
  return bad;
}

interface PidResult {
  pid: number;
  core: string;
  sha256: string;
  bytes: number;
  loads: number;
  unreadable: number;
  clipped: number;
}

async function dumpProcess(
  ctx: ActionContext,
  host: HostView,
  pid: number,
  budget: { perProcess: number; remaining: number },
): Promise<PidResult> {
  const btime = await host.bootTime();
  const info = (await host.readProcess(pid, btime, host.clkTck())).proc;
  const { maps, bad } = parseMaps(await readAll(host, `/proc/${pid}/maps`, MAX_MAPS_BYTES));
  const records: MappingRecord[] = [];
  const loads: Mapping[] = [];
  for (const m of maps) {
    const rec: MappingRecord = {
      start: hex(m.start),
      end: hex(m.end),
      perms: m.perms,
      offset: hex(m.offset),
      dev: m.dev,
      inode: m.inode,
      path: m.path,
      status: 'skipped',
      fileBytes: 0,
    };
    records.push(rec);
    if (m.perms[0] !== 'r') rec.reason = `not readable (${m.perms})`;
    else if (m.end > BigInt(Number.MAX_SAFE_INTEGER))
      rec.reason = 'above 2^53 (the kernel-shared [vsyscall] page): not read';
    else if (isVvar(m)) rec.reason = `${m.path}: kernel time data /proc/<pid>/mem refuses (EIO)`;
    else if (loads.length >= MAX_LOADS) rec.reason = `more than ${MAX_LOADS} readable mappings`;
    else {
      rec.load = loads.length;
      loads.push(m);
    }
  }
  let left = Math.min(budget.perProcess, budget.remaining);
  const plan = planCore(
    {
      pid: info.nspid ?? pid,
      ppid: info.ppid,
      uid: info.uid ?? 0,
      gid: info.gid ?? 0,
      state: info.state,
      comm: info.comm,
      args: info.cmdline.join(' '),
    },
    loads,
    maps,
    (m) => {
      const size = Number(m.end - m.start);
      const take = Math.min(size, Math.floor(left / PAGE) * PAGE);
      left -= take;
      return take;
    },
  );
  const core = await ctx.artifact(`memory/${pid}.core`, {
    mediaType: 'application/x-coredump',
    source: `host /proc/${pid}/mem over the readable ranges of /proc/${pid}/maps (no ptrace attach)`,
  });
  let failure: Error | undefined;
  let written = 0;
  let unreadable = 0;
  let clipped = 0;
  const put = async (b: Buffer): Promise<void> => {
    await writeChunk(core.stream, b);
    written += b.length;
  };
  const mem = await host.open(`/proc/${pid}/mem`);
  try {
    await put(plan.head);
    const buf = Buffer.alloc(CHUNK);
    const byLoad = records.filter((r) => r.load !== undefined);
    for (const [i, l] of plan.loads.entries()) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      if (written < l.fileOffset) await put(Buffer.alloc(l.fileOffset - written));
      const rec = byLoad[i];
      rec.fileBytes = l.fileBytes;
      const start = Number(l.mapping.start);
      const size = Number(l.mapping.end - l.mapping.start);
      const holes: [number, number][] = [];
      for (let off = 0; off < l.fileBytes; off += CHUNK) {
        const part = buf.subarray(0, Math.min(CHUNK, l.fileBytes - off));
        holes.push(...(await readRange(mem, start + off, part)));
        await put(Buffer.from(part));
        ctx.progress({ bytes: part.length });
      }
      if (holes.length) {
        rec.status = 'partial';
        rec.unreadable = holes.map(([a, b]) => [hex(a), hex(b)]);
        unreadable++;
      } else rec.status = 'read';
      if (l.fileBytes < size) {
        rec.status = l.fileBytes ? (holes.length ? 'partial' : 'clipped') : 'clipped';
        rec.reason = `budget: ${l.fileBytes} of ${size} bytes kept (maxProcessBytes/maxTotalBytes)`;
        clipped++;
      }
    }
  } catch (err) {
    failure = err as Error;
  } finally {
    await mem.close().catch(() => undefined);
    core.stream.end();
  }
  const entry = await core.done(failure);
  budget.remaining -= plan.loads.reduce((n, l) => n + l.fileBytes, 0);
  const sidecar = {
    schema: 'cirt.memory/1',
    pid,
    nspid: info.nspid,
    comm: info.comm,
    cmdline: info.cmdline,
    exe: info.exe,
    core: entry.path,
    coreSha256: entry.sha256,
    coreBytes: entry.bytes,
    complete: entry.complete,
    method:
      'pread of /proc/<pid>/mem from the host while the container is frozen; no ptrace attach',
    pageSize: PAGE,
    unparsedMapsLines: bad,
    mappings: records,
  };
  await ctx.writeJson(
    `memory/${pid}.json`,
    sidecar,
    `/proc/${pid}/maps and the reads of ${entry.path}`,
  );
  if (failure) throw failure;
  if (clipped)
    await ctx.case.noteGap(
      `memory: ${clipped} mappings of pid ${pid} (${safeText(info.comm)}) clipped by the byte budget; see memory/${pid}.json`,
    );
  return {
    pid,
    core: entry.path,
    sha256: entry.sha256,
    bytes: entry.bytes,
    loads: plan.loads.length,
    unreadable,
    clipped,
  };
}

export const collectMemory = defineAction({
  name: 'collect:memory',
  description:
    "Dump each process of the paused container (or `pids`) as an ELF64 core (memory/<hostpid>.core: NT_PRPSINFO, NT_FILE naming mapped files, one PT_LOAD per readable mapping) by reading the host's /proc/<pid>/maps and /proc/<pid>/mem; never ptrace-attaches. Unreadable or budget-clipped ranges are zeros in the core and listed in memory/<hostpid>.json. Refuses a running container unless allowRunning: true (memory changes under the read). Cost: the processes' resident+mapped readable memory up to maxProcessBytes each and maxTotalBytes in all, read at about the rate of `dd` over /proc/<pid>/mem (npm run bench, row memory: 65 MiB/s on the 2-core CI machine); the container stays frozen meanwhile.",
  example: '- uses: collect:memory\n  with: { maxProcessBytes: 256MiB, maxTotalBytes: 1GiB }',
  params: z.strictObject({
    pids: z
      .array(z.number().int().positive())
      .min(1)
      .optional()
      .describe('host pids (as in proc/processes.json `pid`); default: every process'),
    maxProcessBytes: bytesParam('256MiB', 'memory kept per process; the rest is a gap'),
    maxTotalBytes: bytesParam('1GiB', 'memory kept for the whole step'),
    allowRunning: z
      .boolean()
      .default(false)
      .describe('read a running (not paused) container: the memory may change while it is read'),
  }),
  mutates: false,
  plan: (p, t) =>
    `dump the memory of ${p.pids ? `pids ${p.pids.join(', ')}` : 'every process'} of ${t.name} into memory/<pid>.core (≤ ${p.maxProcessBytes} bytes each, ≤ ${p.maxTotalBytes} in all)`,
  needs: ['inspect'],
  async check(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'process memory');
    if (!facts.state.paused && !p.allowRunning)
      throw new PreconditionError(
        `container ${safeText(ctx.target.name)} is ${facts.state.status}, not paused: its memory would change while it is read`,
        {
          hint: 'Put contain:pause before collect:memory, or set allowRunning: true to read it running (the cores may be inconsistent).',
        },
      );
  },
  async run(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'process memory');
    const view = await hostView(ctx, facts.state.pid);
    if (!view.ok) {
      await ctx.case.noteGap(`process memory not collected: ${view.reason}`);
      throw new Error(`cannot read process memory: ${view.reason}; run cirt on the engine host`);
    }
    const host = view.host;
    const all = await host.containerPids(facts.state.pid);
    const pids = p.pids ?? all;
    const strangers = pids.filter((x) => !all.includes(x));
    if (strangers.length)
      throw new PreconditionError(
        `pids ${strangers.join(', ')} are not processes of ${safeText(ctx.target.name)} (its host pids: ${all.join(', ')})`,
        { hint: 'Give host pids from proc/processes.json (`pid`), or leave pids out for all.' },
      );
    const budget = { perProcess: p.maxProcessBytes, remaining: p.maxTotalBytes };
    const done: PidResult[] = [];
    const gone: number[] = [];
    for (const pid of pids) {
      if (ctx.signal.aborted) throw new Error('interrupted');
      try {
        done.push(await dumpProcess(ctx, host, pid, budget));
      } catch (err) {
        if (!isGone(err)) throw err;
        gone.push(pid);
        ctx.warn(`process ${pid} exited before its memory was read; skipped`);
      }
    }
    const bytes = done.reduce((n, r) => n + r.bytes, 0);
    const partial = done.filter((r) => r.unreadable).length;
    return {
      status: 'ok',
      summary: `${done.length} cores (${(bytes / 1048576).toFixed(1)} MiB) in memory/${partial ? `; ${partial} with unreadable ranges (zeros, listed in memory/<pid>.json)` : ''}${gone.length ? `; ${gone.length} processes exited` : ''}`,
      details: { cores: done, vanished: gone, paused: facts.state.paused },
    };
  },
});
