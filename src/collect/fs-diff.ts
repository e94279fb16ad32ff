import type { ActionContext } from '../runner/action.js';
import { InterruptedError } from '../errors.js';
import { statChanged } from '../host/fs-stat.js';
import type { ContainerRoot } from '../host/proc-root.js';
import { RuntimeError } from '../runtime/errors.js';
import type { Change } from './changes.js';
import { writeChunk } from '../util/streams.js';

/**
 * The exact bytes to ask the engine for. Paths come from /changes, whose JSON turns bytes that are
 * not UTF-8 into U+FFFD; on the engine's host the real names are found through /proc/<pid>/root.
 */
export function exactPaths(path: string, root: ContainerRoot | null): Buffer[] {
  if (!root || !path.includes('\ufffd')) return [Buffer.from(path)];
  try {
    const found = root.locate(path).map((l) => l.bytes);
    return found.length ? found : [Buffer.from(path)];
  } catch {
    return [Buffer.from(path)];
  }
}

/** Whether a changed path is a directory (then only its metadata changed and it is not fetched). */
export async function isDirectory(ctx: ActionContext, path: Buffer): Promise<boolean | null> {
  try {
    return await ctx.runtime.isDirectory(ctx.target, path, ctx.signal);
  } catch (err) {
    if (!(err instanceof RuntimeError) || err.status === undefined) throw err;
    // Unknown: fetch it; the archive request records what the engine says.
    return null;
  }
}

const STAT_BATCH_CHARS = 1 << 20;

/** Writes fs/stat.jsonl: lstat of every added or changed path through /proc/<pid>/root, never following a symlink. */
export async function writeStats(
  ctx: ActionContext,
  root: ContainerRoot,
  pid: number,
  changes: readonly Change[],
): Promise<number> {
  const h = await ctx.artifact('fs/stat.jsonl', {
    mediaType: 'application/x-ndjson',
    source: `lstat via /proc/${pid}/root (no symlink followed)`,
    progress: false,
  });
  let n = 0;
  let failure: Error | undefined;
  try {
    // Lines are gathered into ~1 MiB writes: one awaited write per path cost more than the lstat.
    let out = '';
    for (const c of changes) {
      if (c.Kind === 2) continue;
      if (ctx.signal.aborted) throw new InterruptedError('interrupted while reading file times');
      for (const r of statChanged(root, c.Path, c.Kind === 1 ? 'A' : 'C')) {
        out += `${JSON.stringify(r)}\n`;
        n++;
      }
      if (out.length >= STAT_BATCH_CHARS) {
        await writeChunk(h.stream, out);
        out = '';
      }
    }
    if (out) await writeChunk(h.stream, out);
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    h.stream.end();
    await h.done(failure);
  }
  return n;
}
