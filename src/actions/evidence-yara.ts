import fs from 'node:fs';
import readline from 'node:readline';
import path from 'node:path';
import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { FailureError } from '../errors.js';
import type { ManifestEntry } from '../evidence/types.js';
import {
  compileRules,
  memberAt,
  ruleFiles,
  scanFile,
  tarMembers,
  type MemberRange,
} from '../evidence/yara.js';
import { safeText } from '../util/sanitize.js';

/** cirt's own metadata and reports: not content the container produced. */
const NOT_CONTENT = new Set([
  'application/json',
  'application/x-ndjson',
  'text/html',
  'text/markdown',
]);
const TAR = 'application/x-tar';
/** Matches kept in yara/matches.json; past this they are counted, not listed. */
export const MAX_MATCHES = 10_000;

/** One match as yara/matches.json lists it. */
export interface YaraMatch {
  rule: string;
  /** The rule's string identifier (`$a`); null for a rule that matched without strings. */
  string: string | null;
  artifact: string;
  /** For a tar artifact: the member the match is in (its container path from the artifact's index, else its name in the tar), else null. */
  member: string | null;
  /** The member's name as written in the tar, when it differs from `member`. */
  tarName?: string;
  /** True when the bytes are in the member's tar header (its name or link text), not its content. */
  inHeader?: boolean;
  /** Offset of the match in the member's content (tar) or in the artifact (other files). */
  offset: number | null;
  /** Offset in the artifact file itself (`tail -c +$((artifactOffset+1))`). */
  artifactOffset: number | null;
  length: number | null;
}

const params = z.strictObject({
  rules: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      'YARA rule files or folders (walked for *.yar / *.yara), relative to the working directory; compiled when the playbook loads',
    )
    .superRefine((list, ctx) => {
      // Compiled here, while the playbook is validated: a broken rule is exit 2 before anything runs.
      const { files, problems } = ruleFiles(list);
      for (const p of problems) ctx.addIssue({ code: 'custom', message: `rules: ${safeText(p)}` });
      if (problems.length || !files.length) return;
      for (const e of compileRules(files))
        ctx.addIssue({ code: 'custom', message: `YARA rules do not compile: ${e}` });
    }),
  timeoutSeconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(300)
    .describe('per artifact: yara gives up after this long (the artifact is then a gap)'),
});

/** The index that names a tar artifact's members by container path, and which of its lines belong to it. */
function indexOf(artifact: string): { index: string; mount?: number } | null {
  if (artifact === 'fs/diff.tar') return { index: 'fs/diff-index.jsonl' };
  if (artifact === 'fs/export.tar') return { index: 'fs/export-index.jsonl' };
  const m = /^fs\/mounts\/(\d+)\.tar$/.exec(artifact);
  return m ? { index: 'fs/mounts-index.jsonl', mount: Number(m[1]) } : null;
}

/**
 * Container paths of a tar's members by header offset, from the index its collector wrote beside it
 * (the engine's archive names members relative to the requested path, the index has the full path).
 */
async function memberPaths(root: string, artifact: string): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const ix = indexOf(artifact);
  if (!ix) return out;
  const file = path.join(root, ix.index);
  if (!fs.existsSync(file)) return out;
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line || line.length > 1024 * 1024) continue;
    try {
      const e = JSON.parse(line) as { path?: unknown; offset?: unknown; mount?: unknown };
      if (ix.mount !== undefined && e.mount !== ix.mount) continue;
      if (typeof e.offset === 'number' && typeof e.path === 'string') out.set(e.offset, e.path);
    } catch {
      // A line that is not JSON names nothing; the tar's own member name is used instead.
    }
  }
  return out;
}

async function manifestEntries(root: string): Promise<ManifestEntry[]> {
  const doc = JSON.parse(await fs.promises.readFile(path.join(root, 'manifest.json'), 'utf8')) as {
    artifacts?: ManifestEntry[];
  };
  return Array.isArray(doc.artifacts) ? doc.artifacts : [];
}

/** Scans the case's content artifacts with the user's YARA rules; matches go to yara/matches.json. */
export const evidenceYara = defineAction({
  name: 'evidence:yara',
  description:
    "Scan the collected content with YARA rules (Debian's yara): every tar artifact (fs/diff.tar, mounts, export) member by member, mapping each match's offset to the member and its offset in it, and every other content artifact (memory cores, recovered binaries, clipped prefixes, logs, pcaps) as a file; cirt's JSON metadata is skipped. Nothing is extracted: yara reads the artifacts in place. Writes yara/matches.json; evidence:findings turns matches into findings. Cost: one read of every content artifact by yara (about its scan speed, hundreds of MB/s for string rules) plus one read of each tar to index it; rules compile when the playbook loads.",
  example: ['- uses: evidence:yara', '  with:', '    rules: [playbooks/yara/]'].join('\n'),
  params,
  mutates: false,
  // Reads only the case folder.
  needs: [],
  plan: (p) =>
    `scan the case's content artifacts (tar members, memory cores, binaries) with the YARA rules in ${p.rules.join(', ')}, write yara/matches.json`,
  async run(ctx, p) {
    const { files: rules } = ruleFiles(p.rules);
    const entries = (await manifestEntries(ctx.case.root)).filter(
      (e) => !NOT_CONTENT.has(e.mediaType) && !e.path.startsWith('yara/'),
    );
    const matches: YaraMatch[] = [];
    let dropped = 0;
    const scanned: Array<{
      artifact: string;
      kind: 'tar' | 'file';
      bytes: number;
      members?: number;
      matches: number;
      problem: string | null;
    }> = [];
    const problems: string[] = [];
    for (const e of entries) {
      if (ctx.signal.aborted) break;
      const file = path.join(ctx.case.root, e.path);
      ctx.progress({ message: `yara: ${e.path}` });
      const isTar = e.mediaType === TAR || e.path.endsWith('.tar');
      let members: MemberRange[] = [];
      let names = new Map<number, string>();
      let problem: string | null = null;
      if (isTar) {
        const ix = await tarMembers(file);
        members = ix.members;
        if (ix.problem) problem = `tar index: ${ix.problem}`;
        names = await memberPaths(ctx.case.root, e.path);
      }
      const r = await scanFile(rules, file, {
        timeoutSeconds: p.timeoutSeconds,
        signal: ctx.signal,
      });
      problem = [problem, r.problem].filter(Boolean).join('; ') || null;
      for (const m of r.matches) {
        const at = isTar && m.offset !== null ? memberAt(members, m.offset) : null;
        const match: YaraMatch = {
          rule: m.rule,
          string: m.string,
          artifact: e.path,
          member: at ? (names.get(at.member.headerOffset) ?? at.member.name) : null,
          ...(at &&
          names.has(at.member.headerOffset) &&
          names.get(at.member.headerOffset) !== at.member.name
            ? { tarName: at.member.name }
            : {}),
          ...(at?.inHeader ? { inHeader: true } : {}),
          offset: at ? at.memberOffset : m.offset,
          artifactOffset: m.offset,
          length: m.length,
        };
        if (matches.length < MAX_MATCHES) matches.push(match);
        else dropped++;
      }
      scanned.push({
        artifact: e.path,
        kind: isTar ? 'tar' : 'file',
        bytes: e.bytes,
        ...(isTar ? { members: members.length } : {}),
        matches: r.matches.length,
        problem,
      });
      if (problem) problems.push(`${e.path}: ${problem}`);
    }
    const entry = await ctx.writeJson(
      'yara/matches.json',
      {
        schema: 'cirt.yara/1',
        engine: 'yara (Debian)',
        rules,
        scanned,
        matches,
        ...(dropped ? { dropped } : {}),
      },
      `yara over ${scanned.length} artifacts with ${rules.length} rule files`,
    );
    if (dropped)
      await ctx.case.noteGap(`evidence:yara: ${dropped} matches past ${MAX_MATCHES} not listed`);
    for (const pr of problems) await ctx.case.noteGap(`evidence:yara: ${pr}`);
    const hitRules = [...new Set(matches.map((m) => m.rule))];
    const summary = `${matches.length + dropped} matches of ${hitRules.length} rules in ${new Set(matches.map((m) => m.artifact)).size} of ${scanned.length} artifacts → ${entry.path}`;
    if (problems.length)
      throw new FailureError(
        `${summary}; ${problems.length} artifacts were not fully scanned: ${problems.slice(0, 3).join('; ')}`,
        { hint: 'Raise timeoutSeconds or narrow the rules; the gaps are listed in case.json.' },
      );
    return {
      status: 'ok',
      summary,
      details: { artifacts: scanned.length, matches: matches.length + dropped, rules: hitRules },
    };
  },
});
