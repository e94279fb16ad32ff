import { isContainment } from '../runner/outcome.js';
import type { Playbook } from '../runner/playbook.js';

/**
 * Where a multi-target run splits a playbook: every step up to and including its last `contain:*`
 * step is the containment phase (with the volatile collection a playbook puts before its isolate
 * step, which must run before the network is cut); the rest is collection. 0 when the playbook
 * contains nothing; the number of steps when it only contains.
 */
export function collectFrom(pb: Playbook): number {
  let last = -1;
  pb.steps.forEach((s, i) => {
    if (isContainment(s.uses)) last = i;
  });
  return last + 1;
}

/** A counting semaphore: at most `limit` holders; waiters are served in order. */
export class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  async take(): Promise<() => void> {
    if (this.used >= this.limit) await new Promise<void>((r) => this.waiting.push(r));
    else this.used++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter (used stays the same).
      if (next) next();
      else this.used--;
    };
  }
}

/** Per-engine concurrency of each phase. */
export interface PhaseLimits {
  contain: number;
  collect: number;
}

/**
 * Containment is a handful of short engine calls per target (dockerd serialises its network calls,
 * so more at once mostly overlaps our own bookkeeping: 30 containers cut after 12.5 s at 30 at a
 * time against 15.4 s at 10, here under load); collection streams whole filesystems.
 */
export const DEFAULT_LIMITS: PhaseLimits = { contain: 25, collect: 3 };

/**
 * Orders the targets' runs: containment of every target first (at most `contain` at a time per
 * engine), then collection (at most `collect` per engine) once every target has finished its
 * containment phase — so the last network cut never waits for the first container's filesystem.
 * A target that fails, is refused or ends early counts as arrived; an abort releases the barrier.
 */
export class PhasePlan {
  private readonly containSlots = new Map<string, Slots>();
  private readonly collectSlots = new Map<string, Slots>();
  private pending: number;
  private open!: () => void;
  /** Resolves when every target has finished its containment phase (or the run is interrupted). */
  readonly allContained: Promise<void>;

  constructor(
    readonly splitAt: number,
    targets: number,
    private readonly limits: PhaseLimits,
    signal: AbortSignal,
    private readonly onAllContained: () => void = () => undefined,
  ) {
    this.pending = targets;
    this.allContained = new Promise<void>((r) => (this.open = r));
    if (!targets) this.open();
    signal.addEventListener('abort', () => this.open(), { once: true });
  }

  private slots(map: Map<string, Slots>, engine: string, n: number): Slots {
    let s = map.get(engine);
    if (!s) map.set(engine, (s = new Slots(n)));
    return s;
  }

  /** One target's pass through the phases: call `begin` before its run, `gate` per step, `end` after. */
  forTarget(engine: string) {
    let held: (() => void) | undefined;
    let arrived = false;
    const arrive = (): void => {
      if (arrived) return;
      arrived = true;
      if (--this.pending === 0) {
        this.onAllContained();
        this.open();
      }
    };
    return {
      /** Waits for a containment slot (nothing to wait for when the playbook contains nothing). */
      begin: async (): Promise<void> => {
        if (this.splitAt > 0)
          held = await this.slots(this.containSlots, engine, this.limits.contain).take();
      },
      gate: async (index: number): Promise<void> => {
        if (index !== this.splitAt) return;
        held?.();
        held = undefined;
        arrive();
        await this.allContained;
        held = await this.slots(this.collectSlots, engine, this.limits.collect).take();
      },
      end: (): void => {
        held?.();
        held = undefined;
        arrive();
      },
    };
  }
}
