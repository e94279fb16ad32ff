import type { ActionContext } from '../runner/action.js';
import type { ArtifactHandle } from '../evidence/case-store.js';
import type { ManifestEntry } from '../evidence/types.js';
import { writeChunk } from '../util/streams.js';

/**
 * A JSON array artifact written one element at a time (one element per line), so a long list
 * (thousands of sockets or processes) is never held whole in memory and the file is still
 * plain JSON.
 */
export class JsonArrayArtifact {
  private count = 0;

  private constructor(private readonly handle: ArtifactHandle) {}

  static async open(ctx: ActionContext, path: string, source: string): Promise<JsonArrayArtifact> {
    const handle = await ctx.artifact(path, { mediaType: 'application/json', source });
    await writeChunk(handle.stream, '[');
    return new JsonArrayArtifact(handle);
  }

  get path(): string {
    return this.handle.path;
  }

  get length(): number {
    return this.count;
  }

  async push(value: unknown): Promise<void> {
    await writeChunk(this.handle.stream, `${this.count ? ',' : ''}\n  ${JSON.stringify(value)}`);
    this.count++;
  }

  /** Closes the array (still valid JSON); `failure` marks it incomplete. Resolves once the file is flushed and hashed. */
  async close(failure?: Error): Promise<ManifestEntry> {
    this.handle.stream.end(this.count ? '\n]\n' : ']\n');
    return this.handle.done(failure);
  }
}
