import { z } from 'zod';
import { CHANGE_KINDS, defineMatcher, fsEvidence } from '../matcher.js';

const options = z.strictObject({
  kinds: z.array(z.enum(CHANGE_KINDS)).min(1).default(['added', 'changed']),
});

/** Added or changed files with the setuid or setgid bit (`setuid: true` takes the defaults). */
export const setuidMatcher = defineMatcher({
  kind: 'setuid',
  description: 'added/changed non-directories with the setuid or setgid bit',
  params: z.union([z.literal(true).transform(() => options.parse({})), options]),
  match(p, ev) {
    return ev.fs
      .filter(
        (e) =>
          e.change &&
          p.kinds.includes(e.change) &&
          e.type !== 'directory' &&
          e.mode !== undefined &&
          (e.mode & 0o6000) !== 0,
      )
      .map((e) => {
        const bits = [e.mode! & 0o4000 ? 'setuid' : '', e.mode! & 0o2000 ? 'setgid' : '']
          .filter(Boolean)
          .join('+');
        return {
          key: e.path,
          summary: `${bits} file ${e.path} ${e.change} (mode ${e.mode!.toString(8).padStart(4, '0')}, owner ${e.uid ?? '?'})`,
          evidence: fsEvidence(e),
        };
      });
  },
});
