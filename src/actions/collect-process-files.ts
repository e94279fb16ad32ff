import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { isGone } from '../host/proc.js';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import { JsonArrayArtifact } from '../collect/json-array.js';
import { bytesParam } from '../util/bytes-param.js';
import { writeChunk } from '../util/streams.js';
import { safeText } from '../util/sanitize.js';

const CHUNK = 1024 * 1024;

/** One file a process runs from or holds open though it is gone (evidence-formats.md: procfiles/index.json). */
export interface ProcessFileRecord {
  pid: number;
  nspid: number | null;
  comm: string;
  startTime: string | null;
  /** `exe`: /proc/<pid>/exe; `fd`: a deleted or memfd file the process holds open. */
  kind: 'exe' | 'fd';
  fd?: number;
  /** The link text as the kernel shows it (`/tmp/x (deleted)`, `/memfd:name (deleted)`). */
  link: string;
  linkB64?: string;
  deleted: boolean;
  memfd: boolean;
  /** Size the file has now (fstat of the open file). */
  size: number | null;
  /** Case-relative artifact holding the content; shared by every process running the same file. */
  artifact: string | null;
  /** Bytes of content kept; less than `size` when the budget clipped it. */
  bytes: number;
  /** sha256 of the kept bytes: the whole file when `complete`. */
  sha256: string | null;
  complete: boolean;
  /** Why content is missing or short. */
  note?: string;
}

interface Copy {
  artifact: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  note?: string;
}

const isMemfd = (link: string): boolean => link.startsWith('/memfd:') || link.startsWith('memfd:');
const isDeleted = (link: string): boolean => link.endsWith(' (deleted)');

/** Only printable ASCII links go in as text alone; others carry their raw bytes too. */
function linkFields(raw: Buffer): { link: string; linkB64?: string } {
  const link = raw.toString('utf8');
  return /^[\x20-\x7e]*$/.test(link) ? { link } : { link, linkB64: raw.toString('base64') };
}

export const collectProcessFiles = defineAction({
  name: 'collect:process-files',
  description:
    "Recover what each process of the container runs from: its executable through the host's /proc/<pid>/exe (readable even when the file was deleted or is a memfd) and every deleted or memfd file it holds open (/proc/<pid>/fd/*), each streamed and hashed into procfiles/, with names and link targets in procfiles/index.json. One copy per distinct file. Cost: reads each distinct executable once (a few MiB per process image), bounded by maxFileBytes/maxTotalBytes. Needs cirt on the engine host; works on a paused container.",
  example: '- uses: collect:process-files\n  with: { maxFileBytes: 64MiB, allExecutables: true }',
  params: z.strictObject({
    maxFileBytes: bytesParam('64MiB', 'content kept per file; the rest is a gap'),
    maxTotalBytes: bytesParam('512MiB', 'content kept for the whole step'),
    allExecutables: z
      .boolean()
      .default(true)
      .describe(
        'copy every executable (false: only deleted or memfd ones; the others are still listed)',
      ),
  }),
  mutates: false,
  plan: (p, t) =>
    `copy the executables and deleted/memfd open files of ${t.name}'s processes from host /proc into procfiles/ (≤ ${p.maxFileBytes} bytes each, ≤ ${p.maxTotalBytes} in all)`,
  needs: ['inspect'],
  async check(ctx) {
    await requireLiveTarget(ctx, 'process files');
  },
  async run(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'process files');
    const view = await hostView(ctx, facts.state.pid);
    if (!view.ok) {
      await ctx.case.noteGap(`process executables not recovered: ${view.reason}`);
      throw new Error(
        `cannot read the processes' executables: ${view.reason}; run cirt on the engine host`,
      );
    }
    const host = view.host;
    const btime = await host.bootTime();
    const tck = host.clkTck();
    const pids = await host.containerPids(facts.state.pid);
    const index = await JsonArrayArtifact.open(
      ctx,
      'procfiles/index.json',
      '/proc/<pid>/exe and /proc/<pid>/fd/* (deleted or memfd) of the container',
    );
    const copies = new Map<string, Copy>();
    let total = 0;
    let clipped = 0;
    let failure: Error | undefined;
    let deletedExe = 0;
    let memfdExe = 0;
    let heldOpen = 0;

    const copy = async (file: string, rel: string, size: number): Promise<Copy> => {
      const allowed = Math.max(0, Math.min(p.maxFileBytes, p.maxTotalBytes - total));
      if (allowed === 0 && size > 0)
        return {
          artifact: null,
          bytes: 0,
          sha256: null,
          complete: false,
          note: `not copied: maxTotalBytes ${p.maxTotalBytes} reached (${size} bytes)`,
        };
      const fh = await host.open(file);
      const out = await ctx.artifact(rel, {
        mediaType: 'application/octet-stream',
        source: `host ${file}`,
      });
      let kept = 0;
      let err: Error | undefined;
      try {
        const buf = Buffer.alloc(CHUNK);
        while (kept < allowed) {
          if (ctx.signal.aborted) throw new Error('interrupted');
          const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, allowed - kept), kept);
          if (!bytesRead) break;
          await writeChunk(out.stream, Buffer.from(buf.subarray(0, bytesRead)));
          kept += bytesRead;
        }
      } catch (e) {
        err = e as Error;
      } finally {
        await fh.close().catch(() => undefined);
        out.stream.end();
      }
      const m = await out.done(err);
      total += kept;
      if (err && (err as Error).message === 'interrupted') throw err;
      const short = kept < size;
      return {
        artifact: m.path,
        bytes: kept,
        sha256: m.sha256,
        complete: !err && !short,
        note: err
          ? `read failed after ${kept} bytes: ${err.message}`
          : short
            ? `clipped at ${kept} of ${size} bytes (maxFileBytes ${p.maxFileBytes}, maxTotalBytes ${p.maxTotalBytes})`
            : undefined,
      };
    };

    const record = async (
      pid: number,
      base: Pick<ProcessFileRecord, 'nspid' | 'comm' | 'startTime'>,
      kind: 'exe' | 'fd',
      file: string,
      fd?: number,
    ): Promise<void> => {
      const raw = await host.readlink(file);
      const lf = linkFields(raw);
      const deleted = isDeleted(lf.link);
      const memfd = isMemfd(lf.link);
      if (kind === 'fd' && !deleted && !memfd) return;
      let size: number | null = null;
      let key: string | undefined;
      try {
        const st = await host.stat(file);
        if (!st.isFile()) return; // a deleted directory or a socket: nothing to copy
        size = st.size;
        key = `${st.dev}:${st.ino}`;
      } catch (err) {
        if (isGone(err)) throw err;
      }
      const rec: ProcessFileRecord = {
        pid,
        ...base,
        kind,
        ...(fd === undefined ? {} : { fd }),
        ...lf,
        deleted,
        memfd,
        size,
        artifact: null,
        bytes: 0,
        sha256: null,
        complete: false,
      };
      if (kind === 'exe') {
        if (deleted) deletedExe++;
        if (memfd) memfdExe++;
      } else heldOpen++;
      const wanted = kind === 'fd' || deleted || memfd || p.allExecutables;
      if (!wanted) rec.note = 'not copied (allExecutables: false and the file is on disk)';
      else if (size === null || key === undefined) rec.note = 'could not stat the open file';
      else {
        const seen = copies.get(key);
        const got =
          seen ??
          (await copy(file, `procfiles/${pid}/${kind === 'exe' ? 'exe' : `fd-${fd}`}`, size));
        if (!seen) copies.set(key, got);
        Object.assign(rec, {
          artifact: got.artifact,
          bytes: got.bytes,
          sha256: got.sha256,
          complete: got.complete,
        });
        if (got.note) {
          rec.note = got.note;
          if (!seen) {
            clipped++;
            await ctx.case.noteGap(
              `procfiles: ${safeText(lf.link)} of pid ${pid}: ${safeText(rec.note)}`,
            );
          }
        }
      }
      await index.push(rec);
    };

    try {
      for (const pid of pids) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        try {
          const info = await host.readProcess(pid, btime, tck);
          const base = {
            nspid: info.proc.nspid,
            comm: info.proc.comm,
            startTime: info.proc.startTime,
          };
          try {
            await record(pid, base, 'exe', `/proc/${pid}/exe`);
          } catch (err) {
            // A kernel thread or zombie has no exe; the process going away is normal too.
            if (!isGone(err)) throw err;
          }
          for (const name of await host.readdir(`/proc/${pid}/fd`)) {
            try {
              await record(pid, base, 'fd', `/proc/${pid}/fd/${name}`, Number(name));
            } catch (err) {
              if (!isGone(err)) throw err;
            }
          }
        } catch (err) {
          if (!isGone(err)) throw err;
          ctx.warn(`process ${pid} exited while it was read; skipped`);
        }
      }
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      await index.close(failure);
    }
    return {
      status: 'ok',
      summary: `${copies.size} files recovered (${total} bytes) from ${pids.length} processes: ${deletedExe} running a deleted executable, ${memfdExe} a memfd, ${heldOpen} deleted/memfd files held open${clipped ? `; ${clipped} clipped` : ''}`,
      details: {
        processes: pids.length,
        files: copies.size,
        bytes: total,
        deletedExe,
        memfdExe,
        heldOpen,
        clipped,
      },
    };
  },
});
