import type { ContainerRuntime } from '../runtime/types.js';
import { runtimeMessage } from '../runtime/errors.js';
import { LineSplitter } from '../util/streams.js';
import { eventNanos, nanosToEngineTime } from './record.js';

export interface FeedHandlers {
  /** One event line as the engine sent it (never a duplicate of one already passed on). */
  event(raw: string, ns: bigint | undefined): void;
  /** The stream is gone (engine down or restarting); `at` in ms. */
  lost(at: number, reason: string): void;
  /** The stream is back; events from `since` (ns) on are being re-read from the engine's buffer. */
  back(lostAt: number, at: number, since: bigint, reason: string): void;
}

export interface FeedOptions {
  runtime: ContainerRuntime;
  /** Read events from this time (ns) on; the engine replays what it still holds. */
  since: bigint;
  signal: AbortSignal;
  handlers: FeedHandlers;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Recent lines kept to drop duplicates a re-read may send again. */
const DEDUP = 1024;

/**
 * Follows the engine's event stream for as long as `signal` lives: on an end or an error it
 * reconnects with exponential backoff and asks for events since the last one it passed on, so what
 * the engine still buffers is not lost and nothing is passed on twice.
 */
export class EventFeed {
  connected = false;
  lastNs: bigint;
  private readonly recent = new Set<string>();
  private readonly order: string[] = [];
  readonly done: Promise<void>;

  constructor(private readonly o: FeedOptions) {
    this.lastNs = o.since;
    this.done = this.loop();
  }

  private seen(raw: string): boolean {
    if (this.recent.has(raw)) return true;
    this.recent.add(raw);
    this.order.push(raw);
    if (this.order.length > DEDUP) this.recent.delete(this.order.shift()!);
    return false;
  }

  private async loop(): Promise<void> {
    const { signal, handlers } = this.o;
    const min = this.o.minBackoffMs ?? 200;
    const max = this.o.maxBackoffMs ?? 5000;
    let backoff = min;
    let lostAt: number | undefined;
    let reason = '';
    while (!signal.aborted) {
      try {
        // From the last event passed on: the engine sends it again, and the dedup set drops it.
        const since = this.lastNs;
        const { stream } = await this.o.runtime.eventStream(
          { since: nanosToEngineTime(since) },
          signal,
        );
        this.connected = true;
        if (lostAt !== undefined) handlers.back(lostAt, Date.now(), since, reason);
        lostAt = undefined;
        backoff = min;
        const lines = stream.pipe(new LineSplitter());
        stream.on('error', (e) => lines.destroy(e));
        for await (const chunk of lines) {
          const raw = (chunk as Buffer).toString('utf8');
          if (!raw.trim() || this.seen(raw)) continue;
          const ns = eventNanos(raw);
          if (ns !== undefined && ns > this.lastNs) this.lastNs = ns;
          handlers.event(raw, ns);
        }
        reason = 'the engine closed the event stream';
      } catch (err) {
        if (signal.aborted) break;
        reason = `the event stream failed: ${runtimeMessage(err)}`;
      }
      this.connected = false;
      if (signal.aborted) break;
      if (lostAt === undefined) {
        lostAt = Date.now();
        handlers.lost(lostAt, reason);
      }
      await sleep(backoff, signal);
      backoff = Math.min(max, backoff * 2);
    }
    this.connected = false;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
