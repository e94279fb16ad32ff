import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { loadFsEntries, modeString, type FsEntry } from '../fs-entries.js';
import { parseRfc3339, type Instant } from '../time.js';

/** stat fields → Timesketch's usual descriptions (the same words plaso uses), in mactime's m-a-c-b order. */
const STAT_FIELDS = [
  ['mtime', 'Content Modification Time'],
  ['atime', 'Last Access Time'],
  ['ctime', 'Metadata Change Time'],
  ['birthtime', 'Creation Time'],
] as const;

/** mactime's marker: `m.c.` for a time that is both the mtime and the ctime. */
function macb(fields: readonly string[]): string {
  return STAT_FIELDS.map(([f], i) => (fields.includes(f) ? 'macb'[i] : '.')).join('');
}

/** The attributes every fs event of a path carries (the bodyfile is rebuilt from them). */
function fileAttrs(e: FsEntry, timeFields: string[]): Record<string, unknown> {
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
    timeFields,
  };
}

function describe(e: FsEntry): string {
  const facts = [
    e.type,
    e.mode !== undefined ? modeString(e.type, e.mode) : undefined,
    e.uid !== undefined ? `${e.uid}:${e.gid ?? '?'}` : undefined,
    e.size !== undefined && e.type === 'file' ? `${e.size} B` : undefined,
    e.linkname ? `→ ${e.linkname}` : undefined,
  ].filter(Boolean);
  return `${e.change ?? 'seen'} ${e.path}${facts.length ? ` (${facts.join(' ')})` : ''}`;
}

/**
 * Filesystem changes: one event per distinct stat time (mtime/atime/ctime/birth; equal times make one
 * event, marked like mactime's `m.c.`) where fs/stat.jsonl has them, else the archive's whole-second
 * mtime, else — for paths with no time at all (deleted ones) — the time the change list was collected.
 */
export const fsExtractor: Extractor = {
  name: 'fs',
  description:
    'filesystem changes (fs/changes.json kind; mtimes of fs/diff-index.jsonl; full stat times of fs/stat.jsonl) and files under mounts (fs/mounts-index.jsonl)',
  artifacts: ['fs/changes.json', 'fs/diff-index.jsonl', 'fs/stat.jsonl', 'fs/mounts-index.jsonl'],
  async extract(x) {
    const { entries, changesArtifact } = await loadFsEntries(x.src, x.files, x.diag);
    const collected = changesArtifact
      ? parseRfc3339(x.manifest.get(changesArtifact)?.startedAt ?? '')
      : undefined;
    const out: TimelineEvent[] = [];
    let timeless = 0;
    for (const e of entries) {
      const kind = `fs:${e.change ?? 'seen'}`;
      const message = describe(e);
      const push = (
        at: Instant,
        desc: string,
        ref: TimelineEvent['ref'],
        fields: string[],
      ): void => {
        const marker = fields[0] === 'observed' ? '' : ` [${macb(fields)}]`;
        out.push(
          makeEvent({
            at,
            desc,
            message: `${message}${marker}`,
            source: 'fs',
            kind,
            actor: 'container',
            ref,
            attrs: fileAttrs(e, fields),
          }),
        );
      };
      let any = false;
      if (e.stat && e.refs.stat) {
        const byTime = new Map<number, { at: Instant; fields: string[]; descs: string[] }>();
        for (const [field, desc] of STAT_FIELDS) {
          const at = e.stat[field];
          if (!at) continue;
          const g = byTime.get(at.us) ?? { at, fields: [], descs: [] };
          g.fields.push(field);
          g.descs.push(desc);
          byTime.set(at.us, g);
        }
        for (const g of byTime.values())
          push(
            g.at,
            g.descs.join('; '),
            { artifact: e.refs.stat.artifact, line: e.refs.stat.line, field: g.fields.join('+') },
            g.fields,
          );
        any = byTime.size > 0;
      }
      if (!any && e.tarMtime && e.refs.diffIndex) {
        push(
          e.tarMtime,
          'Content Modification Time',
          { artifact: e.refs.diffIndex.artifact, line: e.refs.diffIndex.line, field: 'mtime' },
          ['mtime'],
        );
        any = true;
      }
      if (!any && collected && e.refs.changes) {
        push(
          collected,
          'Change Observed (collection time)',
          { artifact: e.refs.changes.artifact, entry: e.refs.changes.entry },
          ['observed'],
        );
        any = true;
      }
      if (!any) timeless++;
    }
    if (timeless)
      x.diag.note(
        `fs: ${timeless} changed path(s) have no time at all (no stat, archive or manifest time)`,
      );
    return [byTime(out)];
  },
};
