import { latestOf, readJsonList } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { parseAnyTime } from '../time.js';

interface Rec {
  pid?: unknown;
  nspid?: unknown;
  comm?: unknown;
  startTime?: unknown;
  kind?: unknown;
  fd?: unknown;
  link?: unknown;
  deleted?: unknown;
  memfd?: unknown;
  sha256?: unknown;
  artifact?: unknown;
}

/**
 * Processes running a deleted or memfd executable (procfiles/index.json), at the process's start
 * time: when the binary that is now gone began to run. Files merely held open are not events.
 */
export const processFilesExtractor: Extractor = {
  name: 'process-files',
  description: 'processes running a deleted or memfd executable (procfiles/index.json)',
  artifacts: ['procfiles/index.json'],
  async extract(x) {
    const rel = latestOf(x.files, 'procfiles/index.json');
    if (!rel) {
      x.diag.note(
        'process-files: no procfiles/index.json (collect:process-files did not run); skipped',
      );
      return [];
    }
    const doc = await readJsonList(x.src, rel, x.diag, 'process files');
    if (!doc) return [];
    const out: TimelineEvent[] = [];
    (doc as Rec[]).forEach((r, entry) => {
      if (r?.kind !== 'exe' || (r.deleted !== true && r.memfd !== true)) return;
      const at = parseAnyTime(r.startTime);
      if (!at) {
        x.diag.warn(`${rel}: entry ${entry} has no start time; skipped`, rel);
        return;
      }
      const what = r.memfd === true ? 'a memfd executable' : 'a deleted executable';
      out.push(
        makeEvent({
          at,
          desc: 'Process Started',
          message: `process ${String(r.nspid ?? r.pid)} (${String(r.comm ?? '?')}) runs ${what} ${String(r.link ?? '')}, sha256 ${String(r.sha256 ?? 'not recovered')}`,
          source: 'process-files',
          kind: r.memfd === true ? 'process:memfd-exe' : 'process:deleted-exe',
          actor: 'container',
          ref: { artifact: rel, entry, field: 'startTime' },
          attrs: {
            pid: r.pid,
            nspid: r.nspid,
            comm: r.comm,
            link: r.link,
            sha256: r.sha256,
            recovered: r.artifact,
          },
        }),
      );
    });
    return [byTime(out)];
  },
};
