import type { Writable } from 'node:stream';
import type { IncidentEvent } from '../../app/incident-events.js';
import { countsText } from '../../app/incident-events.js';
import { statusLabel } from '../../runner/outcome.js';
import { safeText } from '../../util/sanitize.js';

const MARK: Record<string, string> = {
  ok: '✔',
  noop: '•',
  partial: '◐',
  failed: '✖',
  skipped: '-',
  declined: '⊘',
};

/**
 * Text for a multi-target run: the set and its plan, then one line per finished step prefixed with
 * its container (progress and artifacts are left out: 50 containers' worth would drown the
 * statuses), each target's end, and the incident's total. Every outside string is sanitised.
 */
export function incidentReporter(out: Writable): (e: IncidentEvent) => void {
  const w = (s: string): void => {
    out.write(`${s}\n`);
  };
  const names = new Map<string, string>();
  let engines = 1;
  return (e) => {
    switch (e.type) {
      case 'incident:start': {
        engines = new Set(e.targets.map((t) => t.engine)).size;
        for (const t of e.targets)
          names.set(t.key, safeText(engines > 1 ? `${t.name}@${t.engine}` : t.name));
        w(
          `${e.dryRun ? 'Plan for' : 'Running'} playbook ${safeText(e.playbook.name)} on ${e.targets.length} container${e.targets.length === 1 ? '' : 's'}${e.incidentId ? ` — incident ${e.incidentId}: ${safeText(e.dir)}` : ''}`,
        );
        for (const t of e.targets)
          w(
            `  • ${names.get(t.key)} (${t.id.slice(0, 12)}, ${safeText(t.image)}, engine ${safeText(t.engine)})`,
          );
        if (e.dryRun) {
          e.steps.forEach((s, i) => {
            const phase = i < e.collectFrom ? 'containment phase' : 'collection phase';
            const tags = [
              s.mutates ? 'changes the container' : 'read-only',
              s.confirm ? 'needs approval' : '',
              phase,
            ]
              .filter(Boolean)
              .join(', ');
            w(`  ${i + 1}. ${s.id} (${s.uses}) [${tags}]`);
          });
        }
        break;
      }
      case 'incident:collect':
        w(`  — containment phase done for all ${e.contained}: collecting`);
        break;
      case 'target:event': {
        const ev = e.event;
        const who = names.get(e.key) ?? '?';
        if (ev.type === 'step:end' && ev.status === 'planned')
          w(`  [${who}] ${ev.stepId}: ${safeText(ev.message)}`);
        else if (ev.type === 'step:end')
          w(
            `  [${who}] ${MARK[ev.status] ?? '?'} ${ev.stepId} (${ev.uses}) ${ev.status}: ${safeText(ev.message)}${ev.durationMs ? ` [${ev.durationMs} ms]` : ''}`,
          );
        else if (ev.type === 'step:warning')
          w(`  [${who}] ! ${ev.stepId}: ${safeText(ev.message)}`);
        break;
      }
      case 'target:end':
        if (e.status !== 'planned')
          w(
            `  [${names.get(e.key) ?? '?'}] ${statusLabel(e.status)}: ${safeText(e.message)}${e.caseId ? ` — case ${safeText(e.caseId)}` : ''}`,
          );
        break;
      case 'incident:end':
        w(
          `${statusLabel(e.status)}: ${safeText(e.message)}${e.dir ? ` — incident ${safeText(e.dir)}` : ''}`,
        );
        if (e.dir && e.status !== 'planned')
          w(`  check it: cirt verify ${safeText(e.dir)}  (${countsText(e.counts) || 'no cases'})`);
        break;
      default:
        break;
    }
  };
}

/** NDJSON: one event per line (target events carry the target's key). */
export function incidentJsonReporter(out: Writable): (e: IncidentEvent) => void {
  return (e) => {
    out.write(`${JSON.stringify(e)}\n`);
  };
}
