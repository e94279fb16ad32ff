import type { KeyObject } from 'node:crypto';
import { generateSigningKey, loadSigningKey } from '../evidence/sign.js';
import { thisHost, type HostView } from '../host/view.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { EventFeed } from './feed.js';
import type { RecordKind } from './record.js';
import { Snapshotter } from './snapshot.js';
import { JournalWriter, type Retention } from './writer.js';

export const DEFAULT_SNAPSHOT_INTERVAL_MS = 10_000;

export interface RecorderOptions {
  runtime: ContainerRuntime;
  /** The engine's name as the journal records it (its address, or the service's engine name). */
  engineName: string;
  /** The journal folder (created when missing; one recorder per folder). */
  dir: string;
  segmentBytes?: number;
  segmentMaxAgeMs?: number;
  retention?: Retention;
  /** Volatile snapshots every this many ms; 0 turns them off. */
  snapshotIntervalMs?: number;
  /** An Ed25519 private key (or its PEM file) that seals segments; absent: a key made for this recorder. */
  signKey?: KeyObject | string;
  /** This host's /proc; default: the real one when the runtime runs here, else no snapshots. */
  host?: HostView | null;
  onWarning?: (msg: string) => void;
  /** Reconnect backoff bounds (tests shorten them). */
  backoff?: { minMs?: number; maxMs?: number };
}

export interface RecorderStats {
  /** Engine events recorded by this recorder. */
  events: number;
  /** Snapshots taken. */
  snapshots: number;
  /** Gaps recorded (the event stream was lost and came back, or the recorder resumed a journal). */
  gaps: number;
  /** Bytes of the journal on disk (segments and seals). */
  journalBytes: number;
  /** ms between the last event's engine time and its append. */
  lagMs: number;
  /** Whether the engine's event stream is open now. */
  connected: boolean;
}

export interface Recorder {
  readonly dir: string;
  stats(): RecorderStats;
  /** Stops the feed and the snapshots, closes and seals the open segment, releases the lock. */
  stop(): Promise<void>;
}

interface EventHead {
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** Which container an engine event is about: its actor, or (network events) the attribute naming it. */
function containerOf(e: EventHead): string | undefined {
  if (e.Type === 'container') return e.Actor?.ID;
  return e.Actor?.Attributes?.container;
}

/**
 * Starts the flight recorder on `dir`: every engine event appended to the journal from now on
 * (and, when the journal already exists, the engine's buffer since its last recorded event), plus
 * volatile snapshots of every running container's processes and sockets. See docs/journal.md.
 */
export async function startRecorder(o: RecorderOptions): Promise<Recorder> {
  const key =
    typeof o.signKey === 'string' ? loadSigningKey(o.signKey) : (o.signKey ?? generateSigningKey());
  const warn = (m: string) => o.onWarning?.(m);
  const writer = JournalWriter.open({
    dir: o.dir,
    key,
    segmentBytes: o.segmentBytes,
    segmentMaxAgeMs: o.segmentMaxAgeMs,
    retention: o.retention,
    command: `cirt recorder (engine ${o.engineName})`,
    onWarning: warn,
  });
  let events = 0;
  let gaps = 0;
  let lagMs = 0;
  const append = (kind: RecordKind, fields: Record<string, unknown>) => {
    try {
      writer.append(kind, fields);
    } catch (err) {
      // A full disk must not kill the recorder: say so and keep trying with the next record.
      warn(`journal ${o.dir}: could not append a ${kind} record: ${(err as Error).message}`);
    }
  };
  const startedAt = Date.now();
  const resumed = writer.resumed;
  const since =
    resumed.lastEventNs !== undefined ? resumed.lastEventNs + 1n : BigInt(startedAt) * 1_000_000n;
  writer.start({
    engine: o.engineName,
    engineVersion: o.runtime.info.version,
    since: since.toString(),
  });
  if (resumed.last) {
    gaps++;
    append('gap', {
      from: resumed.last.time,
      to: new Date(startedAt).toISOString(),
      reason: resumed.unclean
        ? 'the previous recorder stopped without closing the journal'
        : 'no recorder was running',
      rereadSince: since.toString(),
    });
  }

  const interval = o.snapshotIntervalMs ?? DEFAULT_SNAPSHOT_INTERVAL_MS;
  const host =
    o.host !== undefined ? o.host : o.runtime.capabilities.has('host-proc') ? thisHost : null;
  let snapper: Snapshotter | undefined;
  if (interval > 0 && !host)
    warn(
      `no volatile snapshots: the engine at ${o.engineName} does not run on this host (its containers' /proc is not here)`,
    );
  else if (interval > 0 && host) snapper = new Snapshotter(o.runtime, host, append);

  const abort = new AbortController();
  const feed = new EventFeed({
    runtime: o.runtime,
    since,
    signal: abort.signal,
    minBackoffMs: o.backoff?.minMs,
    maxBackoffMs: o.backoff?.maxMs,
    handlers: {
      event(raw, ns) {
        let head: EventHead = {};
        try {
          head = JSON.parse(raw) as EventHead;
        } catch {
          // Kept raw all the same: the journal records what the engine sent.
        }
        const container = containerOf(head);
        append('engine:event', {
          ...(container ? { container } : {}),
          ns: ns?.toString() ?? null,
          type: head.Type ?? null,
          action: head.Action ?? null,
          raw,
        });
        events++;
        if (ns !== undefined) lagMs = Math.max(0, Date.now() - Number(ns / 1_000_000n));
        if (
          container &&
          head.Type === 'container' &&
          /^(start|die|restart)$/.test(head.Action ?? '')
        )
          snapper?.invalidate(container);
      },
      lost(at, reason) {
        append('engine:lost', { at: new Date(at).toISOString(), reason });
      },
      back(lostAt, at, from, reason) {
        gaps++;
        append('gap', {
          from: new Date(lostAt).toISOString(),
          to: new Date(at).toISOString(),
          reason,
          rereadSince: from.toString(),
        });
      },
    },
  });

  let snapping: Promise<void> | undefined;
  let lastSnapshotWarning = '';
  const snapTimer =
    snapper &&
    setInterval(() => {
      if (snapping) return;
      snapping = snapper
        .tick()
        .then(() => {
          lastSnapshotWarning = '';
        })
        .catch((err: unknown) => {
          const m = `snapshot failed: ${(err as Error).message}`;
          // Once per kind of failure, not every interval while the engine is down.
          if (m !== lastSnapshotWarning) warn(m);
          lastSnapshotWarning = m;
        })
        .finally(() => {
          snapping = undefined;
        });
    }, interval);
  const ageCheck = Math.max(50, Math.min(1000, (o.segmentMaxAgeMs ?? 60_000) / 4));
  const rotateTimer = setInterval(() => {
    try {
      writer.tick();
    } catch (err) {
      warn(`journal ${o.dir}: rotation failed: ${(err as Error).message}`);
    }
  }, ageCheck);
  // The timers alone must not keep a process alive that has nothing else to do.
  snapTimer?.unref();
  rotateTimer.unref();

  let stopping: Promise<void> | undefined;
  return {
    dir: writer.dir,
    stats: () => ({
      events,
      snapshots: snapper?.snapshots ?? 0,
      gaps,
      journalBytes: writer.bytes,
      lagMs,
      connected: feed.connected,
    }),
    stop() {
      stopping ??= (async () => {
        if (snapTimer) clearInterval(snapTimer);
        clearInterval(rotateTimer);
        abort.abort();
        await feed.done;
        await snapping;
        writer.close({ lastEventNs: feed.lastNs.toString(), events });
      })();
      return stopping;
    },
  };
}
