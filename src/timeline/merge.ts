import type { TimelineEvent } from './event.js';
import type { EventStream } from './extractor.js';

interface Head {
  buf: readonly TimelineEvent[];
  pos: number;
  /** Input index: breaks ties so equal times keep the inputs' order (a stable merge). */
  i: number;
  it?: AsyncIterator<TimelineEvent[]>;
}

const before = (a: Head, b: Head): boolean => {
  const x = a.buf[a.pos].timestamp;
  const y = b.buf[b.pos].timestamp;
  return x < y || (x === y && a.i < b.i);
};

/** A binary min-heap of stream heads (k is small; the heap keeps the merge at O(n log k)). */
class HeadHeap {
  readonly items: Head[] = [];

  push(h: Head): void {
    const a = this.items;
    a.push(h);
    for (let c = a.length - 1; c > 0;) {
      const p = (c - 1) >> 1;
      if (!before(a[c], a[p])) break;
      [a[c], a[p]] = [a[p], a[c]];
      c = p;
    }
  }

  /** Restores order after the top's head moved, or removes the top when `remove`. */
  fixTop(remove: boolean): void {
    const a = this.items;
    if (remove) {
      const last = a.pop()!;
      if (!a.length) return;
      a[0] = last;
    }
    for (let p = 0; ;) {
      const l = 2 * p + 1;
      const r = l + 1;
      let m = p;
      if (l < a.length && before(a[l], a[m])) m = l;
      if (r < a.length && before(a[r], a[m])) m = r;
      if (m === p) return;
      [a[m], a[p]] = [a[p], a[m]];
      p = m;
    }
  }
}

/** Loads the next non-empty batch of an async input; false when it is done. */
async function refill(h: Head): Promise<boolean> {
  if (!h.it) return false;
  for (;;) {
    const r = await h.it.next();
    if (r.done) return false;
    if (r.value.length) {
      h.buf = r.value;
      h.pos = 0;
      return true;
    }
  }
}

/**
 * K-way merge of time-ordered streams (sorted arrays, or async iterables of time-ordered batches):
 * O(n log k) time, O(k + batch) memory. Ties keep the input order, and within one input its own
 * order. Yields batches of up to `max` events; awaits only when an input's batch runs out. Stopping
 * early (a `--limit`) closes every input.
 */
export async function* mergeBatches(
  inputs: readonly EventStream[],
  max = 4096,
): AsyncGenerator<TimelineEvent[]> {
  const heap = new HeadHeap();
  const open: AsyncIterator<TimelineEvent[]>[] = [];
  try {
    for (const [i, input] of inputs.entries()) {
      if (Array.isArray(input)) {
        if (input.length) heap.push({ buf: input, pos: 0, i });
        continue;
      }
      const it = (input as AsyncIterable<TimelineEvent[]>)[Symbol.asyncIterator]();
      open.push(it);
      const h: Head = { buf: [], pos: 0, i, it };
      if (await refill(h)) heap.push(h);
    }
    let out: TimelineEvent[] = [];
    while (heap.items.length) {
      const top = heap.items[0];
      out.push(top.buf[top.pos++]);
      const more = top.pos < top.buf.length || (await refill(top));
      heap.fixTop(!more);
      if (out.length >= max) {
        yield out;
        out = [];
      }
    }
    if (out.length) yield out;
  } finally {
    for (const it of open) await it.return?.();
  }
}

/** One event at a time, for consumers that filter or stop early. */
export async function* flatten(
  batches: AsyncIterable<TimelineEvent[]>,
): AsyncGenerator<TimelineEvent> {
  for await (const b of batches) yield* b;
}

/** mergeBatches, one event at a time. */
export function mergeStreams(inputs: readonly EventStream[]): AsyncGenerator<TimelineEvent> {
  return flatten(mergeBatches(inputs));
}
