import fs from 'node:fs';
import path from 'node:path';
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { packageRoot } from '../util/pkg.js';
import { safeText } from '../util/sanitize.js';
import type { Matcher } from './matcher.js';
import { matchers as defaultMatchers } from './matchers/index.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** A validated rule: its matcher resolved and its params parsed. */
export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  technique: string;
  description?: string;
  kind: string;
  matcher: Matcher;
  params: unknown;
}

export interface RuleSet {
  version: string;
  file: string;
  rules: Rule[];
}

export interface RuleProblem {
  line: number;
  col: number;
  rule?: string;
  message: string;
}

/** Thrown when the rules file has problems; lists all of them with line:col. */
export class RulesError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: RuleProblem[],
  ) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in findings rules:\n${problems.map((p) => `${file}:${p.line}:${p.col}: ${p.rule ? `rule ${p.rule}: ` : ''}${safeText(p.message)}`).join('\n')}`,
      {
        hint: 'Fix the rules file; no finding was evaluated.',
      },
    );
  }
}

const fileShape = z.strictObject({
  version: z.union([z.string().min(1), z.number()]).transform(String),
  rules: z.array(z.unknown()).min(1),
});
const ruleShape = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'ids are lower-case words joined by -'),
  title: z.string().min(1),
  severity: z.enum(SEVERITIES),
  technique: z
    .string()
    .regex(/^T\d{4}(\.\d{3})?$/, 'an ATT&CK technique id like T1059 or T1059.004'),
  description: z.string().optional(),
  match: z
    .record(z.string(), z.unknown())
    .refine((m) => Object.keys(m).length === 1, 'match names exactly one matcher kind'),
});

/** The shipped rules: rules/findings.yaml at the package root. */
export function defaultRulesFile(): string {
  return path.join(packageRoot(), 'rules', 'findings.yaml');
}

/** Reads and validates a rules file (default: the shipped one). */
export function loadRules(file = defaultRulesFile(), registry = defaultMatchers): RuleSet {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`Cannot read findings rules ${safeText(file)}: ${(err as Error).message}`, {
      hint: 'Check the path given as `rules`.',
    });
  }
  return parseRules(text, file, registry);
}

/** Validates rules text; throws RulesError with every problem found. Pure. */
export function parseRules(
  text: string,
  file: string,
  registry: ReadonlyMap<string, Matcher> = defaultMatchers,
): RuleSet {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: RuleProblem[] = [];
  const at = (p: (string | number)[], message: string, rule?: string): void => {
    const pos = lc.linePos(startOf(doc, p));
    problems.push({ line: pos.line, col: pos.col, rule, message });
  };
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push({ line: pos.line, col: pos.col, message: e.message.split('\n')[0] });
  }
  if (problems.length) throw new RulesError(file, problems);
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: 50 });
  } catch (err) {
    // An alias bomb (yaml's ReferenceError) is a problem of the file, at its first alias.
    let first = 0;
    visit(doc, { Alias: (_k, node) => ((first = node.range?.[0] ?? 0), visit.BREAK) });
    const pos = lc.linePos(first);
    throw new RulesError(file, [
      {
        line: pos.line,
        col: pos.col,
        message: `${(err as Error).message} (aliases expand to more than 50 nodes, or do not resolve)`,
      },
    ]);
  }
  const top = fileShape.safeParse(js);
  if (!top.success) {
    for (const i of top.error.issues)
      at(i.path as (string | number)[], `${i.path.join('.') || 'file'}: ${i.message}`);
    throw new RulesError(file, problems);
  }
  const rules: Rule[] = [];
  const seen = new Set<string>();
  top.data.rules.forEach((raw, n) => {
    const base: (string | number)[] = ['rules', n];
    const r = ruleShape.safeParse(raw);
    const label = (raw as { id?: unknown })?.id;
    const name = typeof label === 'string' ? label : `#${n + 1}`;
    if (!r.success) {
      for (const i of r.error.issues)
        at(
          [...base, ...(i.path as (string | number)[])],
          `${i.path.join('.') || 'rule'}: ${i.message}`,
          name,
        );
      return;
    }
    if (seen.has(r.data.id)) at([...base, 'id'], `duplicate rule id "${r.data.id}"`, name);
    seen.add(r.data.id);
    const [kind, params] = Object.entries(r.data.match)[0];
    const matcher = registry.get(kind);
    if (!matcher) {
      at(
        [...base, 'match', kind],
        `unknown matcher "${kind}" (known: ${[...registry.keys()].join(', ')})`,
        name,
      );
      return;
    }
    const p = matcher.params.safeParse(params);
    if (!p.success) {
      for (const i of p.error.issues)
        at(
          [...base, 'match', kind, ...(i.path as (string | number)[])],
          `${[kind, ...i.path].join('.')}: ${i.message}`,
          name,
        );
      return;
    }
    rules.push({
      id: r.data.id,
      title: r.data.title,
      severity: r.data.severity,
      technique: r.data.technique,
      description: r.data.description,
      kind,
      matcher,
      params: p.data,
    });
  });
  if (problems.length) throw new RulesError(file, problems);
  return { version: top.data.version, file, rules };
}

/** Offset of the deepest existing node on the path (a missing key points at its parent). */
function startOf(doc: Document, p: (string | number)[]): number {
  for (let n = p.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true)) as {
      range?: [number, number, number];
    } | null;
    if (node?.range) return node.range[0];
  }
  return 0;
}
