import { z } from 'zod';
import { globToRegExp } from '../glob.js';
import { CHANGE_KINDS, defineMatcher, fsEvidence } from '../matcher.js';

const globList = z
  .array(
    z
      .string()
      .refine((g) => g.startsWith('/') || g.startsWith('**'), 'a path glob starts with / or **')
      .refine((g) => {
        try {
          globToRegExp(g);
          return true;
        } catch {
          return false;
        }
      }, 'not a valid glob'),
  )
  .min(1);

/** A change (added/changed/deleted) to a path matching one of the globs. */
export const fsChangeMatcher = defineMatcher({
  kind: 'fsChange',
  description: 'a changed path matching a glob (fs/changes.json), optionally of some change kinds',
  params: z.strictObject({
    pathGlob: globList,
    kinds: z.array(z.enum(CHANGE_KINDS)).min(1).default(['added', 'changed']),
    /** Directories change whenever an entry inside them does: by default only what is inside counts. */
    includeDirectories: z.boolean().default(false),
  }),
  match(p, ev) {
    const globs = p.pathGlob.map(globToRegExp);
    return ev.fs
      .filter(
        (e) =>
          e.change &&
          p.kinds.includes(e.change) &&
          (p.includeDirectories || e.type !== 'directory') &&
          globs.some((g) => g.test(e.path)),
      )
      .map((e) => ({ key: e.path, summary: `${e.path} was ${e.change}`, evidence: fsEvidence(e) }));
  },
});
