import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import { actor } from '../evidence/case-store.js';
import { loadSigningKey } from '../evidence/sign.js';
import { sealReport } from '../report/seal-report.js';
import { humanBytes } from '../util/format.js';

const params = z.strictObject({
  gzipLevel: z
    .number()
    .int()
    .min(0)
    .max(9)
    .default(6)
    .describe(
      'gzip level of the bundle (1 is fastest; evidence such as random data does not compress anyway)',
    ),
});

export const evidenceSeal = defineAction({
  name: 'evidence:seal',
  description:
    'Seal the case: write report.md and report.html, mark case.json sealed, write manifest.json and SHA256SUMS over every file, sign SHA256SUMS with Ed25519 (--sign-key, or a key made for the case whose private half is discarded), then archive the folder into cases/<case-id>.tar.gz with its .sha256 beside it. The last step of a playbook; use `always: true` so a failed run is sealed too.',
  example: ['- id: seal', '  uses: evidence:seal', '  always: true'].join('\n'),
  params,
  mutates: false,
  needs: [],
  plan: (_p, t) =>
    `write the report, SHA256SUMS and its signature for the case about ${t.name}, freeze the case folder and archive it into cases/<case-id>.tar.gz`,
  async check(ctx) {
    if (ctx.case.sealed) throw new PreconditionError(`case ${ctx.case.id} is already sealed`);
    // A bad key must stop the seal before anything changes; the error names the file.
    if (ctx.case.signKeyPath) loadSigningKey(ctx.case.signKeyPath);
  },
  async run(ctx, p) {
    const r = await ctx.case.seal({
      actor: actor(),
      via: `step ${ctx.stepId} (evidence:seal)`,
      report: sealReport,
      gzipLevel: p.gzipLevel,
      onProgress: (x) => ctx.progress(x),
    });
    return {
      status: 'ok',
      summary: `sealed ${r.files} files, signed with ${r.keySource === 'generated' ? 'a key made for this case' : r.keySource === 'kept' ? 'your kept key' : 'the given key'} (fingerprint sha256 ${r.fingerprint}); ${r.timestamp ? `timestamped by ${r.timestamp.tsa} at ${r.timestamp.genTime}` : 'no trusted timestamp (host clock)'}; bundle ${r.bundle.path} (${humanBytes(r.bundle.bytes)})${r.encrypted ? `, encrypted copy ${r.encrypted.path}` : ''}${r.gaps ? `; ${r.gaps} gap(s) listed in the report` : ''}`,
      details: {
        files: r.files,
        publicKeySha256: r.fingerprint,
        key: r.keySource,
        bundle: r.bundle,
        ...(r.timestamp ? { timestamp: r.timestamp } : {}),
        ...(r.encrypted ? { encrypted: r.encrypted } : {}),
        unlisted: r.unlisted,
        gaps: r.gaps,
      },
    };
  },
});
