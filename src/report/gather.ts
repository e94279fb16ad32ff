import { openCaseSource } from '../evidence/case-source.js';
import { lookupEvents } from '../findings/event-lookup.js';
import type { FindingsDoc } from '../findings/types.js';
import { findCredentials } from './credentials.js';
import type { ReportExtras } from './facts.js';

/**
 * What the report reads from the case folder itself: the findings' event times (timeline.jsonl)
 * and the secret-looking names. A part that cannot be read leaves that part empty: the report is
 * still written (the seal must not fail on it), and says "time unknown" / "none found".
 */
export async function gatherExtras(root: string, findings?: FindingsDoc): Promise<ReportExtras> {
  const ids = new Set((findings?.findings ?? []).flatMap((f) => f.events));
  let events: ReportExtras['events'] = new Map();
  if (ids.size) {
    try {
      events = await lookupEvents(await openCaseSource(root), ids);
    } catch {
      events = new Map();
    }
  }
  const credentials = await findCredentials(root).catch(() => ({ list: [], capped: false }));
  return { events, credentials };
}
