import { z } from 'zod';
import { defineMatcher } from '../matcher.js';

/**
 * What a process runs from or holds open, as collect:process-files recovered it: a deleted
 * executable (the binary removed itself after starting) or a memfd one (loaded from memory, never
 * on disk). The summary carries the recovered file's hash, so a responder can look it up at once.
 */
export const processFileMatcher = defineMatcher({
  kind: 'processFile',
  description:
    'processes running (or holding open) a deleted or memfd file, from procfiles/index.json',
  params: z
    .strictObject({
      kinds: z
        .array(z.enum(['exe', 'fd']))
        .min(1)
        .default(['exe']),
      deleted: z.boolean().optional(),
      memfd: z.boolean().optional(),
    })
    .refine((p) => p.deleted || p.memfd, 'give deleted: true, memfd: true, or both'),
  match(p, ev) {
    const pf = ev.processFiles;
    if (!pf) return [];
    return pf.list
      .filter((f) => p.kinds.includes(f.kind as 'exe' | 'fd'))
      .filter((f) => (p.memfd && f.memfd) || (p.deleted && f.deleted && !f.memfd))
      .map((f) => ({
        key: `${f.pid}:${f.kind}:${f.fd ?? ''}`,
        summary: `${f.comm} (pid ${f.nspid ?? f.pid}) ${f.kind === 'exe' ? 'runs' : `holds open (fd ${f.fd})`} ${f.link}; recovered ${f.bytes} bytes${f.complete ? '' : ' (incomplete)'}, sha256 ${f.sha256 ?? 'none'}${f.fileArtifact ? ` in ${f.fileArtifact}` : ''}`,
        evidence: [
          { artifact: pf.artifact, ref: { entry: f.entry } },
          ...(f.fileArtifact ? [{ artifact: f.fileArtifact, ref: {} }] : []),
        ],
      }));
  },
});
