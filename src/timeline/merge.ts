import type { TimelineEvent } from './event.js';
import type { EventStream } from './extractor.js';

interface Head {
  ev: TimelineEvent;
  /** Input index: breaks ties so equal times keep the inputs' order (a stable merge). */
  i: number;
  it: Iterator<TimelineEvent> | AsyncIterator<TimelineEvent>;
}

const before = (a: Head, b: Head): boolean => a.ev.timestamp < b.ev.timestamp || (a.ev.timestamp === b.ev.timestamp && a.i < b.i);

/** A binary min-heap of stream heads (k is small; the heap keeps the merge at O(n log k)). */
class HeadHeap {
  readonly items: Head[] = [];

  push(h: Head): void {
    const a = this.items;
    a.push(h);
    for (let c = a.length - 1; c > 0; ) {
      const p = (c - 1) >> 1;
      if (!before(a[c], a[p])) break;
      [a[c], a[p]] = [a[p], a[c]];
      c = p;
    }
  }

  /** Restores order after the top's event changed, or removes the top when `remove`. */
  fixTop(remove: boolean): void {
    const a = this.items;
    if (remove) {
      const last = a.pop()!;
      if (!a.length) return;
      a[0] = last;
    }
    for (let p = 0; ; ) {
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

async function pull(it: Head['it']): Promise<IteratorResult<TimelineEvent>> {
  const r = it.next();
  return r instanceof Promise ? await r : r;
}

/**
 * K-way merge of time-ordered streams: O(n log k) time, O(k) memory. Ties keep the input order, and
 * within one input its own order. Stopping early (a `--limit`) closes every input.
 */
export async function* mergeStreams(inputs: readonly EventStream[]): AsyncGenerator<TimelineEvent> {
  const heap = new HeadHeap();
  const open: Head['it'][] = [];
  try {
    for (const [i, input] of inputs.entries()) {
      const it = Symbol.asyncIterator in input ? (input as AsyncIterable<TimelineEvent>)[Symbol.asyncIterator]() : (input as Iterable<TimelineEvent>)[Symbol.iterator]();
      open.push(it);
      const first = await pull(it);
      if (!first.done) heap.push({ ev: first.value, i, it });
    }
    while (heap.items.length) {
      const top = heap.items[0];
      yield top.ev;
      const n = await pull(top.it);
      if (!n.done) top.ev = n.value;
      heap.fixTop(Boolean(n.done));
    }
  } finally {
    for (const it of open) await it.return?.();
  }
}
