import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { engineStream } from './raw.js';

/** The engine's buffer holds at most 256 events: a bounded read is no risk to memory. */
const MAX_NETWORK_EVENT_BYTES = 16 * 1024 * 1024;

/** Network events (connect/disconnect…) whose attributes name the container, as raw JSON lines. */
export async function readNetworkEvents(
  docker: Docker,
  id: string,
  query: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<string[]> {
  const res = await engineStream(docker, '/events', query, signal);
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of res) {
    bytes += (chunk as Buffer).length;
    if (bytes > MAX_NETWORK_EVENT_BYTES)
      throw new Error(`more than ${MAX_NETWORK_EVENT_BYTES} bytes of network events`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .filter((line) => {
      if (!line.trim()) return false;
      try {
        const e = JSON.parse(line) as { Actor?: { Attributes?: { container?: unknown } } };
        return e.Actor?.Attributes?.container === id;
      } catch {
        return false;
      }
    });
}

/** The container's event stream, then the extra lines (the timeline sorts by time). */
export function appendLines(first: Readable, extra: string[]): Readable {
  return Readable.from(
    (async function* () {
      for await (const chunk of first) yield chunk as Buffer;
      for (const line of extra) yield Buffer.from(`${line}\n`);
    })(),
  );
}
