import { Transform } from 'node:stream';
import { z } from 'zod';
import { writeStats } from '../collect/fs-diff.js';
import { fetchDiff } from '../collect/fs-fetch.js';
import { groupRequests } from '../collect/fs-groups.js';
import { planFetch, type Change } from '../collect/changes.js';
import type { ContainerRoot } from '../host/proc-root.js';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { humanBytes } from '../util/format.js';
import { safeText } from '../util/sanitize.js';
import { bytesParam } from '../util/bytes-param.js';
import { BoundedBuffer } from '../util/streams.js';

/** A /changes listing is metadata; past this it is not a diff we can plan in memory. */
const MAX_CHANGES_BYTES = 256 * 1024 * 1024;

const params = z.strictObject({
  stat: z
    .boolean()
    .default(true)
    .describe(
      'on the engine host, also record atime/mtime/ctime/birth time of every changed path (fs/stat.jsonl)',
    ),
  maxFileBytes: bytesParam(
    '256MiB',
    'largest changed file kept whole; a bigger one (or a sparse one that claims more) keeps only this many first bytes, in fs/clipped/<n>.bin, and is listed as a gap',
  ),
  maxTotalBytes: bytesParam(
    '2GiB',
    'most bytes of content this step writes (fs/diff.tar plus prefixes); past it the remaining paths are listed as gaps, not fetched',
  ),
  maxContextBytes: bytesParam(
    '64MiB',
    'most bytes of unchanged members one directory request may bring along before it is cut and its changed children fetched one by one',
  ),
});

export const collectFsDiff = defineAction({
  name: 'collect:fs-diff',
  description:
    "Collect what changed in the container's filesystem: /changes (added, changed, deleted), the content of every added or changed path into fs/diff.tar (bytes as the engine sent them; a directory with many changed children is fetched once, its unchanged members marked as context in the index) with a per-entry index and sha256, within per-file and total byte budgets (a file over them keeps a hashed prefix and is listed as a gap), and — on the engine host — full stat times through /proc/<pid>/root without following any symlink. Works on a paused container.",
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
    // When the disk refuses the listing, the tap is destroyed: let go of the engine's response too.
    tap.on('close', () => res.destroy());
    const listing = await ctx.writeArtifact('fs/changes.json', res.pipe(tap), {
      mediaType: 'application/json',
      source,
    });
    if (!listing.complete)
      throw new FailureError(
        `reading /changes of ${safeText(ctx.target.name)} broke off: ${listing.error ?? 'unknown error'}`,
      );
    if (kept.cut)
      throw new FailureError(
        `/changes of ${safeText(ctx.target.name)} is ${humanBytes(kept.total)}: too large to plan; fs/changes.json is kept`,
        { hint: 'Use collect:export for the whole filesystem instead.' },
      );
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
          ctx.warn(
            `${safeText(ctx.target.name)} changed its process while being examined: no stat times`,
          );
        }
      } catch (err) {
        root?.close();
        root = null;
        ctx.warn(
          `cannot open /proc/${pid}/root (${(err as Error).message}): no stat times, non-UTF-8 names are not resolved`,
        );
      }
    } else if (p.stat) {
      ctx.warn(
        ctx.host
          ? `${safeText(ctx.target.name)} is not running: no stat times from /proc`
          : 'the engine is remote: no stat times from /proc (fs/stat.jsonl not written)',
      );
    }
    try {
      // 2. Times first: reading the content through the archive endpoint can update atime.
      const statted = root && p.stat ? await writeStats(ctx, root, pid, changes) : 0;

      // 3. Which paths to request: planFetch's rule, then parents with many changed children fetched once.
      const planned = groupRequests(plan.added, plan.changedLeaves);
      const groups = planned.filter((r) => r.kind === 'directory').length;
      ctx.progress({
        message: `${changes.length} changes: ${planned.length} archive request(s) planned (${groups} for directories with many changed children), ${plan.covered} path(s) inside added directories`,
      });

      // 4. Content, within the budgets.
      let metadataOnlyDirs = 0;
      const got = await fetchDiff(
        ctx,
        changes,
        planned,
        root,
        {
          maxFileBytes: p.maxFileBytes,
          maxTotalBytes: p.maxTotalBytes,
          maxContextBytes: p.maxContextBytes,
        },
        () => metadataOnlyDirs++,
      );
      const count = (k: number) => changes.filter((c) => c.Kind === k).length;
      const missing = got.requests.filter((r) => r.status !== 'ok' && r.status !== 'cut').length;
      return {
        status: 'ok',
        summary: `${changes.length} changes (${count(1)} added, ${count(0)} changed, ${count(2)} deleted): ${got.entries} entries (${got.evidence} changed, ${got.context} context), ${humanBytes(got.bytes)} from ${got.requests.length} archive request(s)${missing ? `, ${missing} not delivered` : ''}${got.gaps.length ? `, ${got.gaps.length} over budget (listed as gaps)` : ''}${statted ? `, ${statted} stat records` : ''}`,
        details: {
          changes: { added: count(1), changed: count(0), deleted: count(2) },
          requests: got.requests.length,
          directoryRequests: got.requests.filter((r) => r.kind === 'directory').length,
          notDelivered: missing,
          entries: got.entries,
          evidenceEntries: got.evidence,
          contextEntries: got.context,
          clipped: got.clipped,
          overBudget: got.gaps.length,
          budgets: {
            maxFileBytes: p.maxFileBytes,
            maxTotalBytes: p.maxTotalBytes,
            maxContextBytes: p.maxContextBytes,
          },
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
