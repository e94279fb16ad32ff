import fs from 'node:fs';
import path from 'node:path';
import {
  isMap,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node as YamlNode,
  type Pair,
} from 'yaml';
import type { z } from 'zod';
import type { ActionRegistry } from '../runner/registry.js';
import { UserError } from '../errors.js';
import { packageRoot } from '../util/pkg.js';
import { closest, didYouMean } from '../util/closest.js';
import { safeText } from '../util/sanitize.js';
import { issueWords } from './issue-words.js';
import { playbookShape, stepShape } from './schema.js';
import type { Playbook, PlaybookProblem, PlaybookStep } from './types.js';

/** Playbooks are untrusted input: bound their size. */
const MAX_BYTES = 256 * 1024;
/** Aliases resolved per document: a real playbook needs a handful; an alias bomb needs millions. */
const MAX_ALIASES = 50;

/** Thrown when a playbook has problems; carries all of them. */
export class PlaybookError extends UserError {
  constructor(readonly problems: PlaybookProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in playbook:\n${problems.map(formatProblem).join('\n')}`,
      {
        hint: 'Fix the playbook and run `cirt validate <playbook>` again; nothing was run.',
      },
    );
  }
}

export function formatProblem(p: PlaybookProblem): string {
  // Every part may come from the file (a step's label quotes its id and `uses:`), so every part is made safe.
  return `${safeText(p.file)}:${p.line}:${p.col}: ${p.step ? `${safeText(p.step)}: ` : ''}${safeText(p.message)}`;
}

/** `contain` → ./playbooks/contain.yaml or the shipped one; anything with a slash or .yaml is a path. */
export function resolvePlaybookPath(ref: string, cwd = process.cwd()): string {
  if (ref.includes('/') || /\.ya?ml$/.test(ref)) return path.resolve(cwd, ref);
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(ref)) {
    throw new UserError(`"${safeText(ref)}" is neither a playbook name nor a path`, {
      hint: 'Use a name like `contain` or a path to a .yaml file.',
    });
  }
  for (const dir of [path.join(cwd, 'playbooks'), path.join(packageRoot(), 'playbooks')]) {
    for (const ext of ['.yaml', '.yml']) {
      const file = path.join(dir, ref + ext);
      if (fs.existsSync(file)) return file;
    }
  }
  throw new UserError(`No playbook named "${ref}"`, {
    hint: `Looked in ./playbooks and ${path.join(packageRoot(), 'playbooks')}; run \`cirt validate\` on a path instead.`,
  });
}

/** Reads and validates a playbook file. Throws PlaybookError listing every problem. */
export function loadPlaybook(
  file: string,
  registry: ActionRegistry,
  displayName = path.relative(process.cwd(), file) || file,
): Playbook {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`Cannot read playbook ${displayName}: ${(err as Error).message}`, {
      hint: 'Check the path.',
    });
  }
  const { playbook, problems } = parsePlaybook(text, registry, displayName);
  if (problems.length || !playbook) throw new PlaybookError(problems);
  return { ...playbook, file };
}

/** Validates playbook text; returns the playbook (when valid) and all problems. Pure: no engine. */
export function parsePlaybook(
  text: string,
  registry: ActionRegistry,
  file: string,
): { playbook?: Playbook; problems: PlaybookProblem[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: PlaybookProblem[] = [];
  const at = (offset: number | undefined, message: string, step?: string): void => {
    const pos = lc.linePos(offset ?? 0);
    problems.push({ file, line: pos.line, col: pos.col, step, message });
  };
  for (const e of doc.errors) at(e.pos[0], e.message.split('\n')[0]);
  if (doc.errors.length) return { problems };

  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    // yaml throws a ReferenceError for an alias bomb (or an alias it cannot resolve): a problem of
    // this file, reported at its first alias, not a crash that hides the other files.
    at(
      firstAlias(doc),
      `${(err as Error).message} (aliases expand to more than ${MAX_ALIASES} nodes, or do not resolve)`,
    );
    return { problems };
  }
  const top = playbookShape.safeParse(js);
  if (!top.success)
    for (const issue of top.error.issues)
      reportIssue(doc, [], issue, at, undefined, Object.keys(playbookShape.shape));
  // A bad name or an unknown top-level key must not hide the steps' problems: all are reported at once.
  const rawSteps = top.success ? top.data.steps : ((js as { steps?: unknown } | null)?.steps ?? []);
  const steps: PlaybookStep[] = [];
  const ids = new Map<string, number>();
  (Array.isArray(rawSteps) ? rawSteps : []).forEach((raw: unknown, i) => {
    const base = ['steps', i];
    const node = doc.getIn(base, true) as YamlNode | undefined;
    const label0 = `step ${i + 1}`;
    const shape = stepShape.safeParse(raw);
    if (!shape.success) {
      for (const issue of shape.error.issues)
        reportIssue(doc, base, issue, at, label0, Object.keys(stepShape.shape));
      return;
    }
    const s = shape.data;
    const label = `step ${i + 1} "${s.id ?? s.uses}" (${s.uses})`;
    if (s.id) {
      if (ids.has(s.id))
        at(
          nodeStart(doc.getIn([...base, 'id'], true)),
          `duplicate step id "${s.id}" (also step ${ids.get(s.id)})`,
          label,
        );
      else ids.set(s.id, i + 1);
    }
    const action = registry.get(s.uses);
    if (!action) {
      at(
        nodeStart(doc.getIn([...base, 'uses'], true)),
        `unknown action "${s.uses}"${suggest(s.uses, registry.names())}; run \`cirt actions\` for the list`,
        label,
      );
      return;
    }
    const rawParams = s.with ?? {};
    const parsed = action.params.safeParse(rawParams);
    if (!parsed.success) {
      // The action's own param names, for "did you mean" (its params are a strict object).
      const known = Object.keys((action.params as { shape?: object }).shape ?? {});
      for (const issue of parsed.error.issues)
        reportIssue(doc, [...base, 'with'], issue, at, label, known, s.uses);
      return;
    }
    steps.push({
      id: s.id ?? '',
      uses: s.uses,
      action,
      params: parsed.data,
      rawParams,
      confirm: s.confirm ?? action.confirmByDefault ?? false,
      continueOnError: s['continue-on-error'] ?? false,
      always: s.always ?? false,
      line: lc.linePos(nodeStart(node) ?? 0).line,
    });
  });
  if (problems.length || !top.success) return { problems };
  assignIds(steps, ids);
  return {
    playbook: { name: top.data.name, description: top.data.description, file, steps },
    problems,
  };
}

/** Steps without an explicit id get the action's verb, numbered when repeated. */
function assignIds(steps: PlaybookStep[], taken: Map<string, number>): void {
  for (const step of steps) {
    if (step.id) continue;
    const verb = step.uses.split(':')[1];
    let id = verb;
    for (let n = 2; taken.has(id); n++) id = `${verb}-${n}`;
    taken.set(id, 0);
    step.id = id;
  }
}

/** Where the first alias (`*name`) of a document starts, for the alias-bomb problem. */
function firstAlias(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = nodeStart(node);
      return visit.BREAK;
    },
  });
  return found;
}

function nodeStart(node: unknown): number | undefined {
  const n = node as { range?: [number, number, number] } | undefined;
  return n?.range?.[0];
}

type At = (offset: number | undefined, message: string, step?: string) => void;

/** Maps a zod issue to the YAML node it is about (for unknown keys: the key itself). */
function reportIssue(
  doc: Document,
  base: (string | number)[],
  issue: z.core.$ZodIssue,
  at: At,
  step?: string,
  known: readonly string[] = [],
  action?: string,
): void {
  const p = [...base, ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))];
  const where = p.slice(base.length).join('.');
  if (issue.code === 'unrecognized_keys') {
    const map = p.length ? doc.getIn(p, true) : doc.contents;
    for (const key of issue.keys) {
      const pair = isMap(map)
        ? (map.items as Pair[]).find((it) => (it.key as { value?: unknown })?.value === key)
        : undefined;
      const what = action ? `unknown param "${key}" for ${action}` : `unknown key "${key}"`;
      const list = known.length
        ? `; it takes ${known.join(', ')}`
        : action
          ? '; it takes none'
          : '';
      at(
        nodeStart(pair?.key) ?? nodeStart(map),
        `${what}${where && !action ? ` in ${where}` : ''}${didYouMean(key, known)}${list}`,
        step,
      );
    }
    return;
  }
  // Walk up to the deepest node that exists (a missing key points at its parent).
  let node: unknown;
  for (let n = p.length; n >= 0; n--) {
    node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
    if (node) break;
  }
  const field = where ? `"${where}": ` : '';
  at(nodeStart(node), `${field}${issueWords(issue)}`, step);
}

function suggest(name: string, names: string[]): string {
  const verbOf = (n: string): string => n.split(':').pop() ?? n;
  const verb = verbOf(name);
  const typoVerb = closest(verb, names.map(verbOf));
  const c =
    closest(name, names) ??
    names.find((n) => n.endsWith(`:${verb}`) || n.includes(verb)) ??
    names.find((n) => verbOf(n) === typoVerb);
  return c ? ` (did you mean "${c}"?)` : '';
}
