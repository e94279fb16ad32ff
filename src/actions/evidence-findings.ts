import path from 'node:path';
import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { computeFindings } from '../findings/compute.js';
import { loadRules } from '../findings/rules.js';
import { openCaseSource } from '../evidence/case-source.js';

/** Applies the finding rules to the case and writes findings.json. */
export const evidenceFindings = defineAction({
  name: 'evidence:findings',
  description:
    'Apply the findings rules (rules/findings.yaml, or `rules`) to the collected evidence and write findings.json; each finding names its ATT&CK technique and links to the timeline events and artifacts that show it. Run after evidence:timeline.',
  example: '- uses: evidence:findings',
  params: z.strictObject({
    rules: z
      .string()
      .min(1)
      .optional()
      .describe('a rules file instead of the shipped rules/findings.yaml'),
  }),
  mutates: false,
  // Reads only the case folder.
  needs: [],
  plan: (p) =>
    `evaluate ${p.rules ? `the rules in ${p.rules}` : 'the shipped findings rules'} against the case, write findings.json`,
  async run(ctx, params) {
    // Load (and validate) the rules first: a broken rules file fails the step before any work.
    const rules = loadRules(params.rules ? path.resolve(params.rules) : undefined);
    const src = await openCaseSource(ctx.case.root);
    const doc = await computeFindings(src, { rules, onWarning: (m) => ctx.warn(m) });
    const entry = await ctx.writeJson(
      'findings.json',
      doc,
      `rules ${path.basename(rules.file)} version ${rules.version}`,
    );
    const counts: Record<string, number> = {};
    for (const f of doc.findings) counts[f.severity] = (counts[f.severity] ?? 0) + 1;
    const tally = Object.entries(counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    return {
      status: 'ok',
      summary: doc.findings.length
        ? `${doc.findings.length} findings (${tally}) → ${entry.path}`
        : `no finding → ${entry.path}`,
      details: {
        findings: doc.findings.length,
        bySeverity: counts,
        rulesVersion: rules.version,
        rules: rules.rules.length,
      },
    };
  },
});
