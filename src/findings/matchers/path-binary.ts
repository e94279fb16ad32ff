import { z } from 'zod';
import { isUnder } from '../glob.js';
import { defineMatcher, fsEvidence } from '../matcher.js';

const options = z.strictObject({ extraDirs: z.array(z.string().startsWith('/')).default([]) });

/**
 * Binaries added to a directory of the container's PATH. "Added" in the engine's diff means the image
 * did not have the path, so each hit is a binary the image did not ship.
 */
export const pathBinaryMatcher = defineMatcher({
  kind: 'pathBinaryNotInImage',
  description:
    "files or links added directly in a PATH directory (the container's PATH, plus extraDirs)",
  params: z.union([z.literal(true).transform(() => options.parse({})), options]),
  match(p, ev) {
    const dirs = [...ev.pathDirs, ...p.extraDirs];
    return ev.fs
      .filter(
        (e) =>
          e.change === 'added' &&
          e.type !== 'directory' &&
          dirs.some((d) => isUnder(e.path, d) && !e.path.slice(d.length + 1).includes('/')),
      )
      .map((e) => ({
        key: e.path,
        summary: `${e.path} added to PATH directory ${e.path.slice(0, e.path.lastIndexOf('/')) || '/'}; the image did not have it`,
        evidence: fsEvidence(e),
      }));
  },
});
