import type { ActionContext } from '../runner/action.js';
import { InterruptedError } from '../errors.js';
import { statChanged } from '../host/fs-stat.js';
import type { ContainerRoot } from '../host/proc-root.js';
import { RuntimeError } from '../runtime/errors.js';
import { requestEntryPath, type Change } from './changes.js';
import type { RequestRecord } from '../evidence/diff-writer.js';
import { openIndexedTar } from './indexed-tar.js';
import { nameFields } from '../util/names.js';
import { safeText } from '../util/sanitize.js';
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

/** Writes fs/stat.jsonl: lstat of every added or changed path through /proc/<pid>/root, never following a symlink. */
export async function writeStats(ctx: ActionContext, root: ContainerRoot, pid: number, changes: readonly Change[]): Promise<number> {
  const h = await ctx.artifact('fs/stat.jsonl', { mediaType: 'application/x-ndjson', source: `lstat via /proc/${pid}/root (no symlink followed)`, progress: false });
  let n = 0;
  let failure: Error | undefined;
  try {
    for (const c of changes) {
      if (c.Kind === 2) continue;
      if (ctx.signal.aborted) throw new InterruptedError('interrupted while reading file times');
      const lines = statChanged(root, c.Path, c.Kind === 1 ? 'A' : 'C').map((r) => `${JSON.stringify(r)}\n`);
      n += lines.length;
      await writeChunk(h.stream, lines.join(''));
    }
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    h.stream.end();
    await h.done(failure);
  }
  return n;
}

/**
 * Fetches each path with one archive request, all concatenated into fs/diff.tar (bytes as the
 * engine sent them) and indexed into fs/diff-index.jsonl. A path gone since /changes is noted,
 * not fatal; a response that breaks midway fails the step, with what arrived kept.
 */
export async function fetchArchives(ctx: ActionContext, paths: Buffer[]): Promise<{ requests: RequestRecord[]; bytes: number; entries: number }> {
  const base = ctx.runtime.archiveSource(ctx.target);
  const { tee, close } = await openIndexedTar(
    ctx,
    'fs/diff.tar',
    'fs/diff-index.jsonl',
    `${base}?path=… (one request per top-most changed path, responses concatenated: read with tar --ignore-zeros)`,
  );
  const requests: RequestRecord[] = [];
  let entries = 0;
  // Set when the fetching stops early: both artifacts are then recorded incomplete, with why.
  let failure: Error | undefined;
  try {
    for (const [i, p] of paths.entries()) {
      if (ctx.signal.aborted) throw new InterruptedError(`interrupted after ${i} of ${paths.length} archive requests`);
      const name = nameFields(p);
      const rec: RequestRecord = { n: i + 1, path: name.text, ...(name.b64 ? { pathB64: name.b64 } : {}), offset: tee.bytes, bytes: 0, entries: 0, status: 'ok' };
      requests.push(rec);
      let res;
      try {
        res = await ctx.runtime.archive(ctx.target, p, ctx.signal);
      } catch (err) {
        const status = err instanceof RuntimeError ? err.status : undefined;
        // No bytes arrived yet, so fs/diff.tar is still whole: note it and go on with the other paths
        // (one path the engine refuses must not hide the rest). A broken connection is not that.
        if (status === undefined) throw err;
        // A name /changes printed with U+FFFD (not UTF-8) cannot be asked for unless /proc gave us its bytes.
        const lossy = status === 404 && name.text.includes('\ufffd') && !name.b64;
        rec.status = status === 404 && !lossy ? 'missing' : 'failed';
        rec.error = (err as RuntimeError).detail.trim();
        const why = lossy ? 'its name is not UTF-8 and the engine printed it lossily, so it cannot be asked for' : status === 404 ? 'it is gone since /changes listed it' : `the engine refused it (HTTP ${status})`;
        ctx.warn(`${safeText(name.text)}: ${why} (${safeText(rec.error)}); its content is not in fs/diff.tar`);
        if (rec.status === 'failed') await ctx.case.noteGap(`content of ${name.text} not collected: ${why}`);
        continue;
      }
      try {
        const r = await tee.add(rec.n, res, (entry) => requestEntryPath(p, entry), (why) => ctx.warn(`fs/diff.tar request ${rec.n} (${safeText(name.text)}): cannot index: ${why}`));
        Object.assign(rec, { bytes: r.bytes, entries: r.entries });
        entries += r.entries;
      } catch (err) {
        Object.assign(rec, { status: 'failed', error: (err as Error).message, bytes: tee.bytes - rec.offset });
        throw new Error(`archive of ${safeText(name.text)} in container ${safeText(ctx.target.name)} broke off after ${rec.bytes} bytes: ${(err as Error).message}`, { cause: err });
      }
      if (rec.entries === 0) {
        rec.status = 'empty';
        const why = name.b64 ? 'the engine cannot archive a path whose name is not UTF-8' : 'the engine sent an empty archive';
        ctx.warn(`${safeText(name.text)}: ${why}; its content is not in fs/diff.tar (its times are in fs/stat.jsonl when collected on the engine host)`);
        await ctx.case.noteGap(`content of ${name.text} not collected: ${why}`);
      }
    }
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    await close(failure);
    // Also when a response broke off: the record says which, and how far it got.
    await ctx.writeJson('fs/diff-requests.json', requests, `${base} (one record per request; offset/bytes locate it in fs/diff.tar)`);
  }
  return { requests, bytes: tee.bytes, entries };
}
