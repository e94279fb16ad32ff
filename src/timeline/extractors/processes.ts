import { latestOf, readJsonList } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { parseAnyTime } from '../time.js';

interface Proc {
  pid?: unknown;
  nspid?: unknown;
  ppid?: unknown;
  uid?: unknown;
  comm?: unknown;
  cmdline?: unknown;
  exe?: unknown;
  startTime?: unknown;
}

/** Process start times from proc/processes.json (host /proc: boot time + start ticks). */
export const processesExtractor: Extractor = {
  name: 'process',
  description: 'process start times (proc/processes.json)',
  artifacts: ['proc/processes.json'],
  async extract(x) {
    const rel = latestOf(x.files, 'proc/processes.json');
    if (!rel) {
      x.diag.note('process: no proc/processes.json; skipped');
      return [];
    }
    const doc = await readJsonList(x.src, rel, x.diag, 'processes');
    if (!doc) return [];
    const out: TimelineEvent[] = [];
    (doc as Proc[]).forEach((p, entry) => {
      const at = parseAnyTime(p?.startTime);
      if (!at) {
        x.diag.warn(`${rel}: process entry ${entry} has no start time; skipped`, rel);
        return;
      }
      const argv = Array.isArray(p.cmdline) ? p.cmdline.map(String) : [];
      const cmd = argv.length ? argv.join(' ') : `[${String(p.comm ?? '?')}]`;
      out.push(
        makeEvent({
          at,
          desc: 'Process Started',
          message: `process ${String(p.nspid ?? p.pid)} started: ${cmd}`,
          source: 'process',
          kind: 'process:start',
          actor: 'container',
          ref: { artifact: rel, entry, field: 'startTime' },
          // Boot time (whole seconds, estimated by the kernel) + clock ticks: good to about a second.
          attrs: {
            pid: p.pid,
            nspid: p.nspid,
            ppid: p.ppid,
            uid: p.uid,
            comm: p.comm,
            cmdline: argv,
            exe: p.exe,
            precision: '~1 s (host boot time + clock ticks)',
          },
        }),
      );
    });
    return [byTime(out)];
  },
};
