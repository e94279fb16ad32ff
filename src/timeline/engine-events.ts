import { versionsOf, type Diagnostics } from './artifacts.js';
import { readLines } from './lines.js';
import type { CaseSource } from '../evidence/case-source.js';
import { fromEngineEvent, type Instant } from './time.js';

/** One engine event line of container/events.jsonl, decoded. */
export interface EngineEvent {
  /** The artifact it was read from (container/events.jsonl, or a later read: events-2.jsonl…). */
  artifact: string;
  /** 1-based line in the artifact. */
  line: number;
  at: Instant;
  /** `container`, `network`, `image`, … */
  type: string;
  /** The full Action, e.g. `exec_create: sh -c id` or `die`. */
  action: string;
  /** The action's verb, before `:` (`exec_create`). */
  verb: string;
  /** What follows the verb (the exec's command line), if anything. */
  detail: string;
  actorId: string;
  attributes: Record<string, string>;
}

/**
 * Reads container/events.jsonl. `timeNano` exceeds 2^53, so it is taken from the line's text before
 * JSON.parse rounds it. Malformed lines are warnings; the result is sorted by time (stable).
 */
export async function loadEngineEvents(
  src: CaseSource,
  rel: string,
  diag: Pick<Diagnostics, 'warn'>,
  seen?: Set<string>,
): Promise<EngineEvent[]> {
  const out: EngineEvent[] = [];
  let n = 0;
  for await (const text of readLines(src.createReadStream(rel))) {
    n++;
    if (!text.trim()) continue;
    // The engine prints one event identically every time it is asked: the same text is the same event.
    if (seen) {
      if (seen.has(text)) continue;
      seen.add(text);
    }
    let o: {
      Type?: unknown;
      Action?: unknown;
      status?: unknown;
      time?: unknown;
      timeNano?: unknown;
      Actor?: { ID?: unknown; Attributes?: unknown };
    };
    try {
      o = JSON.parse(text);
    } catch {
      diag.warn(`${rel}:${n}: not valid JSON; skipped`, rel);
      continue;
    }
    const nano = /"timeNano"\s*:\s*"?(\d{10,19})/.exec(text)?.[1];
    const at = fromEngineEvent(nano ?? o?.timeNano, o?.time);
    const action =
      typeof o?.Action === 'string' ? o.Action : typeof o?.status === 'string' ? o.status : '';
    if (!at || !action) {
      diag.warn(`${rel}:${n}: engine event without a time or action; skipped`, rel);
      continue;
    }
    const colon = action.indexOf(':');
    const attrsIn = o.Actor?.Attributes;
    const attributes: Record<string, string> = {};
    if (attrsIn && typeof attrsIn === 'object') {
      for (const [k, v] of Object.entries(attrsIn as Record<string, unknown>))
        attributes[k] = typeof v === 'string' ? v : JSON.stringify(v);
    }
    out.push({
      artifact: rel,
      line: n,
      at,
      type: typeof o.Type === 'string' ? o.Type : 'container',
      action,
      verb: colon === -1 ? action : action.slice(0, colon),
      detail: colon === -1 ? '' : action.slice(colon + 1).trim(),
      actorId: typeof o.Actor?.ID === 'string' ? o.Actor.ID : '',
      attributes,
    });
  }
  return out.sort((a, b) => a.at.us - b.at.us);
}

/**
 * Every read of the engine's events in the case, merged: a playbook reads them early (the engine keeps
 * only its last 256) and again after its last engine call (so our own top/archive/export/commit are in
 * the record). An event both reads returned is kept once, from the earliest read. Sorted by time.
 */
export async function loadAllEngineEvents(
  src: CaseSource,
  files: readonly string[],
  diag: Pick<Diagnostics, 'warn'>,
): Promise<EngineEvent[] | undefined> {
  const versions = versionsOf(files, 'container/events.jsonl');
  if (!versions.length) return undefined;
  const seen = new Set<string>();
  const all: EngineEvent[] = [];
  for (const rel of versions) all.push(...(await loadEngineEvents(src, rel, diag, seen)));
  return all.sort((a, b) => a.at.us - b.at.us);
}

/** A short human description of an engine event. */
export function describeEngineEvent(e: EngineEvent): string {
  const a = e.attributes;
  switch (e.verb) {
    case 'die':
      return `${e.type} die (exit code ${a.exitCode ?? '?'})`;
    case 'kill':
      return `${e.type} kill (signal ${a.signal ?? '?'})`;
    case 'exec_die':
      return `exec ${(a.execID ?? '').slice(0, 12)} ended (exit code ${a.exitCode ?? '?'})`;
    default:
      if (e.type === 'network') return `network ${e.action} ${a.name ?? e.actorId.slice(0, 12)}`;
      return `${e.type} ${e.action}`;
  }
}
