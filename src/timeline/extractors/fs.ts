import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { loadFsEntries, modeString, type FsEntry } from '../fs-entries.js';
import { parseRfc3339, type Instant } from '../time.js';

/** stat fields → Timesketch's usual descriptions (the same words plaso uses). */
const STAT_FIELDS = [
  ['mtime', 'Content Modification Time'],
  ['atime', 'Last Access Time'],
  ['ctime', 'Metadata Change Time'],
  ['birthtime', 'Creation Time'],
] as const;

/** The attributes every fs event of a path carries (the bodyfile is rebuilt from them). */
function fileAttrs(e: FsEntry, timeField: string): Record<string, unknown> {
  return {
    path: e.path,
    ...(e.pathB64 ? { pathB64: e.pathB64 } : {}),
    change: e.change,
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    inode: e.inode,
    sha256: e.sha256 ?? undefined,
    linkname: e.linkname,
    timeField,
  };
}

function describe(e: FsEntry): string {
  const facts = [e.type, e.mode !== undefined ? modeString(e.type, e.mode) : undefined, e.uid !== undefined ? `${e.uid}:${e.gid ?? '?'}` : undefined, e.size !== undefined && e.type === 'file' ? `${e.size} B` : undefined, e.linkname ? `→ ${e.linkname}` : undefined].filter(Boolean);
  return `${e.change ?? 'seen'} ${e.path}${facts.length ? ` (${facts.join(' ')})` : ''}`;
}

/**
 * Filesystem changes: one event per stat time (mtime/atime/ctime/birth) where fs/stat.jsonl has them,
 * else the archive's whole-second mtime, else — for paths with no time at all (deleted ones) — the time
 * the change list was collected.
 */
export const fsExtractor: Extractor = {
  name: 'fs',
  description: 'filesystem changes (fs/changes.json kind; mtimes of fs/diff-index.jsonl; full stat times of fs/stat.jsonl)',
  artifacts: ['fs/changes.json', 'fs/diff-index.jsonl', 'fs/stat.jsonl'],
  async extract(x) {
    const { entries, changesArtifact } = await loadFsEntries(x.src, x.files, x.diag);
    const collected = changesArtifact ? parseRfc3339(x.manifest.get(changesArtifact)?.startedAt ?? '') : undefined;
    const out: TimelineEvent[] = [];
    let timeless = 0;
    for (const e of entries) {
      const kind = `fs:${e.change ?? 'seen'}`;
      const message = describe(e);
      const push = (at: Instant, desc: string, ref: TimelineEvent['ref'], field: string): void => {
        out.push(makeEvent({ at, desc, message, source: 'fs', kind, actor: 'container', ref, attrs: fileAttrs(e, field) }));
      };
      let any = false;
      if (e.stat && e.refs.stat) {
        for (const [field, desc] of STAT_FIELDS) {
          const at = e.stat[field];
          if (at) {
            push(at, desc, { artifact: e.refs.stat.artifact, line: e.refs.stat.line, field }, field);
            any = true;
          }
        }
      }
      if (!any && e.tarMtime && e.refs.diffIndex) {
        push(e.tarMtime, 'Content Modification Time', { artifact: e.refs.diffIndex.artifact, line: e.refs.diffIndex.line, field: 'mtime' }, 'mtime');
        any = true;
      }
      if (!any && collected && e.refs.changes) {
        push(collected, 'Change Observed (collection time)', { artifact: e.refs.changes.artifact, entry: e.refs.changes.entry }, 'observed');
        any = true;
      }
      if (!any) timeless++;
    }
    if (timeless) x.diag.note(`fs: ${timeless} changed path(s) have no time at all (no stat, archive or manifest time)`);
    return [byTime(out)];
  },
};
