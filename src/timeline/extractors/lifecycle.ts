import { readJson, latestOf } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { parseRfc3339 } from '../time.js';

interface Inspect {
  Name?: unknown;
  Created?: unknown;
  RestartCount?: unknown;
  State?: {
    StartedAt?: unknown;
    FinishedAt?: unknown;
    ExitCode?: unknown;
    OOMKilled?: unknown;
    Status?: unknown;
  };
}

/** Container created / started / finished, from container/inspect.json. */
export const lifecycleExtractor: Extractor = {
  name: 'lifecycle',
  description: 'container created, started and finished times, restart count (inspect)',
  artifacts: ['container/inspect.json'],
  async extract(x) {
    const rel = latestOf(x.files, 'container/inspect.json');
    if (!rel) {
      x.diag.note('lifecycle: no container/inspect.json; skipped');
      return [];
    }
    const doc = await readJson<Inspect>(x.src, rel, x.diag);
    if (!doc || typeof doc !== 'object') return [];
    const name = typeof doc.Name === 'string' ? doc.Name.replace(/^\//, '') : 'container';
    const restarts = typeof doc.RestartCount === 'number' ? doc.RestartCount : undefined;
    const out: TimelineEvent[] = [];
    const add = (
      field: string,
      value: unknown,
      desc: string,
      kind: string,
      message: string,
      attrs: Record<string, unknown> = {},
    ): void => {
      if (value === undefined) return;
      const at = typeof value === 'string' ? parseRfc3339(value) : undefined;
      // Go's zero time means "never" and is not an event; anything else unparseable is a warning.
      if (!at) {
        if (typeof value !== 'string' || !value.startsWith('0001-'))
          x.diag.warn(`${rel}: ${field} is not a time: ${String(value).slice(0, 60)}`, rel);
        return;
      }
      out.push(
        makeEvent({
          at,
          desc,
          message,
          source: 'lifecycle',
          kind,
          actor: 'engine',
          ref: { artifact: rel, field },
          attrs: { container: name, ...attrs },
        }),
      );
    };
    add(
      'Created',
      doc.Created,
      'Container Created',
      'container:created',
      `container ${name} created`,
    );
    add(
      'State.StartedAt',
      doc.State?.StartedAt,
      'Container Started',
      'container:started',
      `container ${name} started${restarts ? ` (restarted ${restarts} times)` : ''}`,
      restarts !== undefined ? { restartCount: restarts } : {},
    );
    const exit = doc.State?.ExitCode;
    add(
      'State.FinishedAt',
      doc.State?.FinishedAt,
      'Container Finished',
      'container:finished',
      `container ${name} finished${typeof exit === 'number' ? ` (exit code ${exit}${doc.State?.OOMKilled ? ', OOM-killed' : ''})` : ''}`,
      { exitCode: exit, oomKilled: doc.State?.OOMKilled },
    );
    return [byTime(out)];
  },
};
