import { z } from 'zod';
import { isUnder } from '../glob.js';
import { CHANGE_KINDS, defineMatcher, fsEvidence } from '../matcher.js';

/** New (or changed) files under some directories, optionally only executable ones. */
export const fsAddedMatcher = defineMatcher({
  kind: 'fsAdded',
  description: 'files added under some directories; with executable: true only those with an x bit',
  params: z.strictObject({
    under: z.array(z.string().startsWith('/')).min(1),
    executable: z.boolean().default(false),
    kinds: z.array(z.enum(CHANGE_KINDS)).min(1).default(['added']),
  }),
  match(p, ev) {
    return ev.fs
      .filter(
        (e) =>
          e.change &&
          p.kinds.includes(e.change) &&
          (e.type === undefined || e.type === 'file') &&
          p.under.some((d) => isUnder(e.path, d)),
      )
      .filter((e) => !p.executable || (e.mode !== undefined && (e.mode & 0o111) !== 0))
      .map((e) => ({
        key: e.path,
        summary: `${p.executable ? 'executable ' : ''}file ${e.path} ${e.change}${e.mode !== undefined ? ` (mode ${e.mode.toString(8).padStart(4, '0')})` : ''}${e.sha256 ? `, sha256 ${e.sha256}` : ''}`,
        evidence: fsEvidence(e),
      }));
  },
});
