import { z } from 'zod';
import { entryPath } from '../collect/changes.js';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { openIndexedTar } from '../collect/indexed-tar.js';
import { humanBytes } from '../util/format.js';
import { safeText } from '../util/sanitize.js';

const params = z.strictObject({
  index: z
    .boolean()
    .default(false)
    .describe(
      'also write fs/export-index.jsonl: one line per entry with its sha256, computed in flight',
    ),
});

const ROOT = Buffer.from('/');

export const collectExport = defineAction({
  name: 'collect:export',
  description:
    "Export the container's whole filesystem (GET /containers/{id}/export) into fs/export.tar, streamed and hashed in flight; optionally indexed entry by entry. Large: as big as the container's filesystem. Works on a paused container.",
  example: ['- uses: collect:export', '  with:', '    index: true'].join('\n'),
  params,
  mutates: false,
  plan: (p, t) =>
    `export the whole filesystem of ${t.name} into fs/export.tar${p.index ? ' with a per-entry index' : ''} (as large as its filesystem)`,
  needs: ['inspect', 'export'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx, p) {
    const { stream: res, source } = await ctx.runtime.export(ctx.target, ctx.signal);
    if (!p.index) {
      const e = await ctx.writeArtifact('fs/export.tar', res, {
        mediaType: 'application/x-tar',
        source,
      });
      if (!e.complete)
        throw new FailureError(
          `export of ${safeText(ctx.target.name)} broke off after ${humanBytes(e.bytes)}: ${e.error ?? 'unknown error'}; what arrived is kept in ${e.path}`,
        );
      return {
        status: 'ok',
        summary: `exported ${humanBytes(e.bytes)} into ${e.path}`,
        details: { bytes: e.bytes, sha256: e.sha256 },
      };
    }
    const { tee, close } = await openIndexedTar(
      ctx,
      'fs/export.tar',
      'fs/export-index.jsonl',
      source,
    );
    let entries = 0;
    let failure: Error | undefined;
    try {
      entries = (
        await tee.add(
          1,
          res,
          (name) => entryPath(ROOT, name),
          (why) => ctx.warn(`fs/export.tar cannot be indexed further: ${why}`),
        )
      ).entries;
    } catch (err) {
      failure = err as Error;
    }
    const e = await close(failure);
    if (failure)
      throw new FailureError(
        `export of ${safeText(ctx.target.name)} broke off after ${humanBytes(e.bytes)}: ${failure.message}; what arrived is kept in ${e.path}`,
        { cause: failure },
      );
    return {
      status: 'ok',
      summary: `exported ${humanBytes(e.bytes)} (${entries} entries, indexed) into ${e.path}`,
      details: { bytes: e.bytes, sha256: e.sha256, entries },
    };
  },
});
