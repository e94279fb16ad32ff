import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HostView } from '../host/view.js';
import { isGone, openFds } from '../host/proc.js';
import type { ActionContext } from '../runner/action.js';
import type { ManifestEntry } from '../evidence/types.js';

/** Passes the first `max` bytes and counts the rest: a process-controlled file cannot fill the case. */
class Clip extends Transform {
  total = 0;
  constructor(private readonly max: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const room = this.max - this.total;
    this.total += chunk.length;
    if (room > 0) this.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
    cb();
  }
}

/** /proc files of one process copied before it is signalled; each is streamed and hashed as it is read. */
const TEXT_FILES = ['cmdline', 'environ', 'status', 'stat', 'maps'] as const;

export interface CapturedProcess {
  /** Case-relative folder of this capture (`proc/kill/<hostpid>`). */
  dir: string;
  artifacts: ManifestEntry[];
  /** sha256 of the executable's bytes as read through /proc/<pid>/exe (of the first maxExeBytes when clipped). */
  exeSha256: string | null;
  exeBytes: number;
  /** What was cut by a budget or could not be read (each is also noted as a gap by the caller). */
  problems: string[];
}

/**
 * Copies what a process is before it dies, from the host's /proc (never from inside the container):
 * cmdline, environ, status, stat, maps, its open fds (as JSON) and its executable through
 * /proc/<pid>/exe, which reads the binary even when it was deleted from the container's disk.
 */
export async function captureProcess(
  ctx: ActionContext,
  host: HostView,
  pid: number,
  budgets: { textBytes: number; exeBytes: number },
): Promise<CapturedProcess> {
  const dir = `proc/kill/${pid}`;
  const artifacts: ManifestEntry[] = [];
  const problems: string[] = [];
  const copy = async (name: string, max: number, mediaType: string): Promise<ManifestEntry> => {
    const file = `/proc/${pid}/${name}`;
    const fh = await host.open(file);
    const clip = new Clip(max);
    // One byte past the budget tells a clipped file from one exactly at it.
    const read = fh.createReadStream({ start: 0, end: max, autoClose: true });
    const done = ctx.writeArtifact(`${dir}/${name}`, clip, {
      mediaType,
      source: `host ${file}`,
    });
    try {
      await pipeline(read, clip);
    } catch (err) {
      clip.destroy(err as Error);
    }
    const entry = await done;
    artifacts.push(entry);
    if (clip.total > max)
      problems.push(`${file} is larger than ${max} bytes: only the first ${max} were kept`);
    return entry;
  };
  for (const name of TEXT_FILES) {
    try {
      await copy(name, budgets.textBytes, 'text/plain');
    } catch (err) {
      if (isGone(err)) throw err;
      problems.push(`/proc/${pid}/${name} could not be read: ${(err as Error).message}`);
    }
  }
  try {
    const fds = await openFds(pid);
    artifacts.push(await ctx.writeJson(`${dir}/fds.json`, fds, `host readlink /proc/${pid}/fd/*`));
  } catch (err) {
    if (isGone(err)) throw err;
    problems.push(`/proc/${pid}/fd could not be listed: ${(err as Error).message}`);
  }
  let exeSha256: string | null = null;
  let exeBytes = 0;
  try {
    const e = await copy('exe', budgets.exeBytes, 'application/octet-stream');
    exeSha256 = e.sha256;
    exeBytes = e.bytes;
  } catch (err) {
    if (isGone(err)) throw err;
    // Kernel threads have no executable; an unreadable one is said, not hidden.
    problems.push(`/proc/${pid}/exe could not be read: ${(err as Error).message}`);
  }
  return { dir, artifacts, exeSha256, exeBytes, problems };
}
