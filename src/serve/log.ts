import { safeText } from '../util/sanitize.js';
import type { ServeEvent } from './dispatch.js';

/** One log line for what the service did, or undefined for events not worth a line (progress). */
export function describeEvent(e: ServeEvent): string | undefined {
  const line = ((): string | undefined => {
    switch (e.type) {
      case 'alert': {
        const a = `alert ${e.alert.id}`;
        switch (e.outcome) {
          case 'unmatched':
            return `${a}: no rule matches rule "${e.alert.loaded.alert.rule}"; nothing to do`;
          case 'matched':
            return `${a}: rule "${e.rule}" matches; starting a run`;
          case 'deduplicated':
            return `${a}: rule "${e.rule}": container has an open case${e.caseId ? ` ${e.caseId}` : ''}; the alert is added to it as evidence`;
          case 'no-container':
            return `${a}: no engine has the container: ${e.message}`;
          case 'params':
          case 'not-run':
            return `${a}: rule "${e.rule}": not run: ${e.message}`;
        }
        return undefined;
      }
      case 'run:refused':
        return `alert ${e.alertId}: rule "${e.rule}": the run on ${e.target.name} could not start: ${e.message}`;
      case 'run': {
        const ev = e.event;
        const c = `case ${e.caseId ?? '(dry run)'}`;
        switch (ev.type) {
          case 'run:start':
            return `${c}: ${ev.dryRun ? 'DRY RUN of' : 'running'} playbook ${ev.playbook.name} on ${e.target.name} (${e.target.id.slice(0, 12)}) for alert ${e.alertId}`;
          case 'step:confirm':
            return `${c}: step "${ev.stepId}" (${ev.uses}) waits for approval: ${ev.plan} (cirt pending; cirt approve|reject ID)`;
          case 'step:end':
            return `${c}: step "${ev.stepId}" (${ev.uses}) ${ev.status}: ${ev.message}`;
          case 'run:end':
            return `${c}: run ${ev.status.toUpperCase()}: ${ev.message}${ev.bundle ? `; bundle ${ev.bundle}` : ''}`;
          default:
            return undefined;
        }
      }
    }
  })();
  return line === undefined ? undefined : safeText(line);
}
