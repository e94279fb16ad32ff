import type { Writable } from 'node:stream';
import type { RunEvent } from '../../runner/events.js';
import { statusLabel } from '../../runner/outcome.js';
import { humanBytes } from '../../util/format.js';
import { safeText } from '../../util/sanitize.js';

const MARK: Record<string, string> = {
  ok: '✔',
  noop: '•',
  partial: '◐',
  failed: '✖',
  skipped: '-',
  declined: '⊘',
  planned: '○',
  'not-applicable': '∅',
};

/** Readable lines for a terminal or a log file. Every string from the outside is sanitised. */
export function plainReporter(out: Writable): (e: RunEvent) => void {
  const w = (s: string): void => {
    out.write(`${s}\n`);
  };
  return (e) => {
    switch (e.type) {
      case 'run:start':
        w(
          `${e.dryRun ? 'Plan for' : 'Running'} playbook ${safeText(e.playbook.name)} on ${safeText(e.target.name)} (${e.target.id.slice(0, 12)}${e.target.engine && e.target.engine !== 'default' ? `, engine ${safeText(e.target.engine)}` : ''})`,
        );
        if (e.caseDir) w(`  case ${e.caseId}: ${safeText(e.caseDir)}`);
        for (const m of e.warnings ?? []) w(`  ! ${safeText(m)}`);
        if (e.dryRun) {
          e.steps.forEach((s, i) => {
            const tags = [
              s.mutates ? 'changes the container' : 'read-only',
              s.confirm ? 'needs approval' : '',
            ]
              .filter(Boolean)
              .join(', ');
            w(`  ${i + 1}. ${s.id} (${s.uses}) [${tags}]`);
            w(`     ${safeText(s.plan)}`);
          });
        }
        break;
      case 'step:progress':
        if (e.message) w(`    … ${safeText(e.message)}`);
        break;
      case 'step:warning':
        w(`    ! ${e.stepId}: ${safeText(e.message)}`);
        break;
      case 'step:confirm':
        w(`  ? ${e.stepId} (${e.uses}) needs approval: ${safeText(e.plan)}`);
        break;
      case 'artifact:added':
        w(
          `    + ${safeText(e.path)} ${humanBytes(e.bytes)} sha256:${e.sha256.slice(0, 16)}…${e.complete ? '' : ' (INCOMPLETE)'}`,
        );
        break;
      case 'step:end':
        if (e.status === 'planned') break;
        w(
          `  ${MARK[e.status] ?? '?'} ${e.stepId} (${e.uses}) ${e.status}: ${safeText(e.message)}${e.durationMs ? ` [${e.durationMs} ms]` : ''}`,
        );
        break;
      case 'run:end':
        // The last line leads with the run status (NOT CONTAINED, DECLINED, …): only an ok run says OK.
        w(
          `${statusLabel(e.status)}: ${safeText(e.message)}${e.caseDir ? ` — case ${safeText(e.caseDir)}` : ''}`,
        );
        if (e.bundle) w(`  bundle ${safeText(e.bundle)}`);
        break;
      default:
        break;
    }
  };
}
