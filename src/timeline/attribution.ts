import { readLines } from './lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import { parseRfc3339 } from './time.js';

/**
 * Our own steps show up in the engine's events (top, export, archive, pause, network disconnect…).
 * They must be labelled the responder's, never the attacker's. The custody log says when each of our
 * steps ran: a step's window runs from the previous custody record to its own record (records are
 * written when a step ends, and steps run one after another). An engine event is ours when it is of a
 * kind our actions cause AND falls inside one of our step windows. Exec is never assumed ours (cirt
 * avoids exec): only an exec whose id a step recorded in its custody details (`details.execIds`) is.
 */

/** Engine event actions (the part before `:`) that cirt's own actions can cause. */
const RESPONDER_CAUSES: Record<string, ReadonlySet<string>> = {
  container: new Set([
    'top',
    'export',
    'archive-path',
    'pause',
    'unpause',
    'commit',
    'update',
    'kill',
    'stop',
    'die',
    'restart',
    'attach',
    'detach',
    'resize',
  ]),
  network: new Set(['connect', 'disconnect', 'create']),
  image: new Set(['tag', 'commit']),
};

/** Tolerance for the engine's clock vs ours (same host normally) and event delivery. */
const SLACK_US = 500_000;

interface Window {
  from: number;
  to: number;
  action: string;
  step?: string;
}

export interface Attribution {
  /** The step (and action) that caused this engine event, when it is ours. */
  responderStep(
    type: string,
    action: string,
    us: number,
    execId?: string,
  ): { step?: string; action: string } | undefined;
  readonly windows: readonly Window[];
}

interface CustodyLike {
  time?: unknown;
  action?: unknown;
  step?: unknown;
  result?: unknown;
  details?: { execIds?: unknown };
}

/** Builds the step windows from parsed custody records (in file order). */
export function attributionFrom(records: readonly CustodyLike[]): Attribution {
  const windows: Window[] = [];
  const execIds = new Map<string, { step?: string; action: string }>();
  let prev: number | undefined;
  for (const r of records) {
    const t = typeof r.time === 'string' ? parseRfc3339(r.time)?.us : undefined;
    if (t === undefined) continue;
    const action = typeof r.action === 'string' ? r.action : '';
    const step = typeof r.step === 'string' ? r.step : undefined;
    // Approval records (a declined step never ran) and run boundaries are not steps, but they start the next step's window.
    const isStep =
      action &&
      action !== 'run:start' &&
      action !== 'run:end' &&
      r.result !== 'approved' &&
      r.result !== 'refused' &&
      r.result !== 'declined';
    if (isStep && prev !== undefined) windows.push({ from: prev, to: t, action, step });
    if (isStep && Array.isArray(r.details?.execIds)) {
      for (const id of r.details.execIds)
        if (typeof id === 'string') execIds.set(id, { step, action });
    }
    prev = action === 'run:end' ? undefined : t;
  }
  // Only our own actions' steps can cause engine events: filtered once, not per event.
  const ours = windows.filter((x) => /^(collect|contain|evidence):/.test(x.action));
  return {
    windows,
    responderStep(type, action, us, execId) {
      if (execId && execIds.has(execId)) return execIds.get(execId);
      if (!RESPONDER_CAUSES[type]?.has(action)) return undefined;
      // Steps are often under the slack apart: the window that holds the time wins, else the nearest.
      const gap = (x: Window) => (us < x.from ? x.from - us : us > x.to ? us - x.to : 0);
      let w: Window | undefined;
      for (const x of ours) if (gap(x) <= SLACK_US && (!w || gap(x) < gap(w))) w = x;
      return w ? { step: w.step, action: w.action } : undefined;
    },
  };
}

/** Reads custody.jsonl leniently (the chain is verified elsewhere; here only the times matter). */
export async function loadAttribution(
  src: CaseSource,
  files: readonly string[],
): Promise<Attribution> {
  const records: CustodyLike[] = [];
  if (files.includes('custody.jsonl')) {
    for await (const line of readLines(src.createReadStream('custody.jsonl'))) {
      try {
        const r: unknown = JSON.parse(line);
        // `null` or a list is valid JSON too; only objects are records.
        if (r && typeof r === 'object' && !Array.isArray(r)) records.push(r as CustodyLike);
      } catch {
        // the custody extractor reports bad lines
      }
    }
  }
  return attributionFrom(records);
}
