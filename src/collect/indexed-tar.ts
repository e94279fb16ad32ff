import type { ActionContext } from '../runner/action.js';
import { TarTee } from '../evidence/diff-writer.js';
import type { ManifestEntry } from '../evidence/types.js';

/**
 * A tar artifact and its index artifact, written together through one TarTee (bytes as the engine
 * sent them; index lines with content hashes computed in flight).
 */
export async function openIndexedTar(
  ctx: ActionContext,
  tarPath: string,
  indexPath: string,
  source: string,
): Promise<{ tee: TarTee; close(failure?: Error): Promise<ManifestEntry> }> {
  const tar = await ctx.artifact(tarPath, { mediaType: 'application/x-tar', source });
  const index = await ctx.artifact(indexPath, {
    mediaType: 'application/x-ndjson',
    source: `tar headers of ${tarPath}, content hashed in flight`,
    progress: false,
  });
  const tee = new TarTee(tar.stream, index.stream, ctx.signal);
  return {
    tee,
    /** Ends both; a failure marks both incomplete (what arrived is kept). Returns the tar's entry. */
    async close(failure) {
      tar.stream.end();
      index.stream.end();
      const entry = await tar.done(failure);
      await index.done(failure);
      return entry;
    },
  };
}
