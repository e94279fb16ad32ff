import { Transform } from 'node:stream';
import { z } from 'zod';
import { exactPaths, fetchArchives, isDirectory, writeStats } from '../collect/fs-diff.js';
import { planFetch, type Change } from '../collect/changes.js';
import type { ContainerRoot } from '../host/proc-root.js';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { humanBytes } from '../util/format.js';
import { safeText } from '../util/sanitize.js';
import { BoundedBuffer } from '../util/streams.js';

/** A /changes listing is metadata; past this it is not a diff we can plan in memory. */
const MAX_CHANGES_BYTES = 256 * 1024 * 1024;

const params = z.strictObject({
  stat: z.boolean().default(true).describe('on the engine host, also record atime/mtime/ctime/birth time of every changed path (fs/stat.jsonl)'),
});

export const collectFsDiff = defineAction({
  name: 'collect:fs-diff',
  description:
    "Collect what changed in the container's filesystem: /changes (added, changed, deleted), the content of every added or changed path fetched with the fewest archive requests into fs/diff.tar (bytes as the engine sent them) with a per-entry index and sha256, and — on the engine host — full stat times through /proc/<pid>/root without following any symlink. Works on a paused container.",
  example: '- uses: collect:fs-diff',
  params,
  mutates: false,
  plan: (p, t) =>
    `list the filesystem changes of ${t.name}, archive the added/changed paths into fs/diff.tar with an index${p.stat ? ', record their stat times from the host' : ''}`,
  needs: ['inspect', 'changes', 'archive'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx, p) {
    const facts = await ctx.facts();

    // 1. /changes, kept as the engine sent it.
    const { stream: res, source } = await ctx.runtime.changes(ctx.target, ctx.signal);
    const kept = new BoundedBuffer(MAX_CHANGES_BYTES);
    // A tap, not a 'data' listener: the listing must not flow before the artifact is ready for it.
    const tap = new Transform({
      transform(c: Buffer, _e, cb) {
        kept.add(c);
        cb(null, c);
      },
    });
    res.on('error', (err) => tap.destroy(err));
    const listing = await ctx.writeArtifact('fs/changes.json', res.pipe(tap), { mediaType: 'application/json', source });
    if (!listing.complete) throw new FailureError(`reading /changes of ${safeText(ctx.target.name)} broke off: ${listing.error ?? 'unknown error'}`);
    if (kept.cut) throw new FailureError(`/changes of ${safeText(ctx.target.name)} is ${humanBytes(kept.total)}: too large to plan; fs/changes.json is kept`, { hint: 'Use collect:export for the whole filesystem instead.' });
    const changes = (JSON.parse(kept.text()) ?? []) as Change[];
    const plan = planFetch(changes);
    await ctx.writeJson('fs/deleted.json', plan.deleted, `${source} (Kind 2)`);

    const pid = facts.state.pid;
    const host = pid > 0 ? ctx.host : null;
    let root: ContainerRoot | null = null;
    if (host) {
      try {
        root = host.openRoot(pid);
        // The open fd pins that root; if the pid is no longer the container's, it may be a host process's.
        const again = await ctx.runtime.inspect(ctx.target);
        if (again.state.pid !== pid) {
          root.close();
          root = null;
          ctx.warn(`${safeText(ctx.target.name)} changed its process while being examined: no stat times`);
        }
      } catch (err) {
        root?.close();
        root = null;
        ctx.warn(`cannot open /proc/${pid}/root (${(err as Error).message}): no stat times, non-UTF-8 names are not resolved`);
      }
    } else if (p.stat) {
      ctx.warn(ctx.host ? `${safeText(ctx.target.name)} is not running: no stat times from /proc` : 'the engine is remote: no stat times from /proc (fs/stat.jsonl not written)');
    }
    try {
      // 2. Times first: reading the content through the archive endpoint can update atime.
      const statted = root && p.stat ? await writeStats(ctx, root, pid, changes) : 0;

      // 3. Which paths to request (see planFetch for the rule).
      const fetch: Buffer[] = plan.added.flatMap((a) => exactPaths(a, root));
      let metadataOnlyDirs = 0;
      for (const c of plan.changedLeaves) {
        for (const exact of exactPaths(c, root)) {
          const dir = await isDirectory(ctx, exact);
          if (dir === true) metadataOnlyDirs++;
          else if (dir === false || dir === null) fetch.push(exact);
        }
      }
      fetch.sort(Buffer.compare);
      ctx.progress({ message: `${changes.length} changes: ${fetch.length} archive request(s), ${plan.covered} path(s) inside added directories` });

      // 4. Content.
      const got = await fetchArchives(ctx, fetch);
      const count = (k: number) => changes.filter((c) => c.Kind === k).length;
      const missing = got.requests.filter((r) => r.status !== 'ok').length;
      return {
        status: 'ok',
        summary: `${changes.length} changes (${count(1)} added, ${count(0)} changed, ${count(2)} deleted): ${got.entries} entries, ${humanBytes(got.bytes)} from ${got.requests.length} archive request(s)${missing ? `, ${missing} not delivered` : ''}${statted ? `, ${statted} stat records` : ''}`,
        details: {
          changes: { added: count(1), changed: count(0), deleted: count(2) },
          requests: got.requests.length,
          notDelivered: missing,
          entries: got.entries,
          bytes: got.bytes,
          coveredByDirectoryRequests: plan.covered,
          changedDirectoriesNotFetched: plan.changedDirs.length + metadataOnlyDirs,
          statRecords: statted,
        },
      };
    } finally {
      root?.close();
    }
  },
});
