import type { CustodyRecord } from '../../evidence/custody.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { jsonObjects } from '../lines.js';
import { parseRfc3339 } from '../time.js';

/** Our own handling of the evidence, from custody.jsonl: always the responder's. */
export const custodyExtractor: Extractor = {
  name: 'custody',
  description: "the responder's own steps (custody.jsonl)",
  artifacts: ['custody.jsonl'],
  async extract(x) {
    const rel = 'custody.jsonl';
    if (!x.files.includes(rel)) {
      x.diag.note('custody: no custody.jsonl; skipped');
      return [];
    }
    const out: TimelineEvent[] = [];
    for await (const { o, line } of jsonObjects(x.src.createReadStream(rel), rel, (m) =>
      x.diag.warn(m, rel),
    )) {
      const r = o as Partial<CustodyRecord>;
      const at = typeof r.time === 'string' ? parseRfc3339(r.time) : undefined;
      if (!at) {
        x.diag.warn(`${rel}:${line}: no time; skipped`, rel);
        continue;
      }
      const step = r.step ? ` step ${r.step}` : '';
      out.push(
        makeEvent({
          at,
          desc: 'Custody Record',
          message: `cirt${step} ${r.action ?? '?'}: ${r.result ?? '?'}${r.message ? ` — ${r.message}` : ''}`,
          source: 'custody',
          kind: `custody:${r.result ?? 'record'}`,
          actor: 'responder',
          ref: { artifact: rel, line },
          attrs: {
            seq: r.seq,
            action: r.action,
            step: r.step,
            result: r.result,
            by: r.actor,
            artifacts: Array.isArray(r.artifacts)
              ? r.artifacts.map((a) => (a as { path?: unknown } | null)?.path)
              : undefined,
          },
        }),
      );
    }
    return [byTime(out)];
  },
};
