import { describeEngineEvent } from '../engine-events.js';
import { makeEvent } from '../event.js';
import type { Extractor } from '../extractor.js';

/** Every engine event recorded by collect:events, with our own steps' events labelled responder. */
export const engineExtractor: Extractor = {
  name: 'engine',
  description:
    'engine events (create, start, exec_*, top, export, pause, network connect/disconnect, die, …)',
  artifacts: ['container/events.jsonl'],
  async extract(x) {
    const events = await x.engineEvents();
    if (!events) {
      x.diag.note(
        'engine: no container/events.jsonl; skipped (the engine keeps only its last 256 events, so collect them early)',
      );
      return [];
    }
    const attribution = await x.attribution();
    return [
      events.map((e) => {
        const ours = attribution.responderStep(e.type, e.verb, e.at.us, e.attributes.execID);
        const base = describeEngineEvent(e);
        return makeEvent({
          at: e.at,
          desc: 'Engine Event',
          message: ours
            ? `${base} — by cirt step ${ours.step ?? ours.action} (${ours.action})`
            : base,
          source: 'engine',
          kind: `engine:${e.type}:${e.verb}`,
          actor: ours ? 'responder' : 'engine',
          ref: { artifact: e.artifact, line: e.line },
          attrs: {
            type: e.type,
            action: e.action,
            actorId: e.actorId,
            attributes: e.attributes,
            ...(ours ? { responderStep: ours.step, responderAction: ours.action } : {}),
          },
        });
      }),
    ];
  },
};
