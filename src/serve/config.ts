import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../actions/index.js';
import { UserError } from '../errors.js';
import { loadPlaybook, PlaybookError, resolvePlaybookPath } from '../playbook/load.js';
import type { Playbook } from '../runner/playbook.js';
import { safeText } from '../util/sanitize.js';
import { configShape, ruleShape, type RawConfig, type RawRule } from './config-schema.js';
import { parseListen, type ListenAddress } from './listen.js';
import { parsePriorityTest, type PriorityTest } from './priority.js';
import { fieldsIn, malformedReference } from './template.js';
import { formatConfigProblem, YamlFile, type ConfigProblem } from './yaml-doc.js';

const MAX_CONFIG_BYTES = 1024 * 1024;
/** A bearer token shorter than this is guessable: refused at load. */
const MIN_TOKEN_CHARS = 16;

/** One rule, checked: its playbook loaded, its tests parsed. */
export interface ServeRule extends Omit<RawRule, 'match'> {
  index: number;
  match: {
    rule?: string[];
    priority?: PriorityTest;
    /** Groups: an alert passes when it has every tag of at least one group. */
    tags?: string[][];
    output_fields?: NonNullable<RawRule['match']['output_fields']>;
    source?: string[];
  };
  /** The playbook file, resolved (loaded again for each run, as the CLI does). */
  playbookFile: string;
  playbookSteps: string[];
  /** Whether a step of the playbook asks first (so a run may wait for a human). */
  asks: boolean;
}

export interface ServeConfig extends Omit<
  RawConfig,
  'rules' | 'listen' | 'token_file' | 'tls' | 'cases_dir' | 'state_dir'
> {
  file: string;
  listen: ListenAddress;
  /** The bearer token itself (read from token_file); absent only on a unix socket. */
  token?: string;
  tokenFile?: string;
  tls?: { cert: Buffer; key: Buffer; clientCa?: Buffer; certFile: string };
  casesDir: string;
  stateDir: string;
  rules: ServeRule[];
}

/** Thrown when a config has problems; carries every one of them. */
export class ConfigError extends UserError {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in the service config:\n${problems.map(formatConfigProblem).join('\n')}`,
      { hint: 'Fix the file and start `cirt serve --config FILE` again; nothing was started.' },
    );
  }
}

/**
 * Reads and checks a service config: YAML syntax, every key, the token and TLS files, each rule's
 * playbook (its own problems with their own file:line:col) and params. Throws ConfigError with every
 * problem at once. Touches no engine and opens no port.
 */
export function loadServeConfig(file: string, cwd = process.cwd()): ServeConfig {
  const abs = path.resolve(cwd, file);
  const relative = path.relative(cwd, abs);
  const shown = relative && !relative.startsWith('..') ? relative : abs;
  let text: string;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw new Error(`larger than ${MAX_CONFIG_BYTES} bytes`);
    text = fs.readFileSync(abs, 'utf8');
  } catch (err) {
    throw new UserError(
      `Cannot read the service config ${safeText(shown)}: ${safeText((err as Error).message)}`,
      {
        hint: 'Pass the YAML file with --config (docs/serve.md has an example).',
      },
    );
  }
  return parseServeConfig(text, shown, path.dirname(abs), cwd);
}

/** Checks config text; `dir` is where relative paths in it are taken from. */
export function parseServeConfig(text: string, shown: string, dir: string, cwd = dir): ServeConfig {
  const y = new YamlFile(text, shown);
  const raw = y.parse(configShape);
  const problems: ConfigProblem[] = [];
  const rel = (p: string): string => path.resolve(dir, p);

  let listen: ListenAddress | undefined;
  let token: string | undefined;
  let tls: ServeConfig['tls'];
  const rules: ServeRule[] = [];
  // A problem in one key must not hide the others: what can be checked on its own is checked
  // on the raw document too when the schema refused it.
  const loose = (y.value ?? {}) as Partial<Record<keyof RawConfig, unknown>>;
  if (!raw && y.ok && typeof loose === 'object') {
    const l = parseListen(typeof loose.listen === 'string' ? loose.listen : '127.0.0.1:2803', dir);
    if (typeof l === 'string') y.at(['listen'], `listen: ${l}`);
    else if (l.kind === 'tcp' && loose.token_file === undefined)
      y.at(
        ['listen'],
        'token_file is required when listen is a TCP address (only a unix socket, guarded by its file mode, may go without)',
      );
    if (Array.isArray(loose.rules))
      loose.rules.forEach((r, i) => void checkRule(y, r, i, dir, cwd, problems));
  }
  if (raw) {
    const l = parseListen(raw.listen, dir);
    if (typeof l === 'string') y.at(['listen'], `listen: ${l}`);
    else listen = l;
    if (raw.token_file) {
      const t = readSecret(rel(raw.token_file));
      if (t.problem) y.at(['token_file'], `token_file ${raw.token_file}: ${t.problem}`);
      else if (t.text.length < MIN_TOKEN_CHARS)
        y.at(
          ['token_file'],
          `token_file ${raw.token_file}: the token is shorter than ${MIN_TOKEN_CHARS} characters (make one with: head -c 32 /dev/urandom | base64)`,
        );
      else token = t.text;
    } else if (listen && listen.kind === 'tcp') {
      y.at(
        ['listen'],
        'token_file is required when listen is a TCP address (only a unix socket, guarded by its file mode, may go without)',
      );
    }
    if (raw.tls) {
      if (listen?.kind === 'unix')
        y.at(['tls'], 'tls is for a TCP listen address, not a unix socket');
      const read = (key: 'cert' | 'key' | 'client_ca'): Buffer | undefined => {
        const f = raw.tls?.[key];
        if (!f) return undefined;
        try {
          return fs.readFileSync(rel(f));
        } catch (err) {
          y.at(
            ['tls', key],
            `tls.${key} ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
          );
          return undefined;
        }
      };
      const cert = read('cert');
      const key = read('key');
      const clientCa = read('client_ca');
      if (cert && key) tls = { cert, key, clientCa, certFile: rel(raw.tls.cert) };
    }
    if (raw.sign_key && !fs.existsSync(rel(raw.sign_key)))
      y.at(['sign_key'], `sign_key ${raw.sign_key}: no such file`);
    raw.rules.forEach((r, i) => {
      const rule = checkRule(y, r, i, dir, cwd, problems);
      if (rule) rules.push(rule);
    });
    const names = new Map<string, number>();
    rules.forEach((r) => {
      if (names.has(r.name))
        y.at(
          ['rules', r.index, 'name'],
          `rule name "${r.name}" is used twice (also rule ${names.get(r.name)! + 1})`,
        );
      else names.set(r.name, r.index);
    });
  }
  const all = [...[...y.problems].sort((a, b) => a.line - b.line || a.col - b.col), ...problems];
  if (all.length || !raw || !listen) throw new ConfigError(all);
  const casesDir = path.resolve(dir, raw.cases_dir ?? path.join(cwd, 'cases'));
  return {
    ...raw,
    file: shown,
    listen,
    token,
    tokenFile: raw.token_file ? rel(raw.token_file) : undefined,
    tls,
    casesDir,
    stateDir: raw.state_dir ? rel(raw.state_dir) : path.join(casesDir, '.serve'),
    journal: raw.journal ? { ...raw.journal, dir: rel(raw.journal.dir) } : undefined,
    sign_key: raw.sign_key ? rel(raw.sign_key) : undefined,
    rules,
  };
}

function readSecret(file: string): { text: string; problem?: string } {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) return { text: '', problem: 'not a regular file' };
    if (st.size > 4096) return { text: '', problem: 'larger than 4 KiB: not a token' };
    return { text: fs.readFileSync(file, 'utf8').trim() };
  } catch (err) {
    return { text: '', problem: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}

function checkRule(
  y: YamlFile,
  input: unknown,
  i: number,
  dir: string,
  cwd: string,
  problems: ConfigProblem[],
): ServeRule | undefined {
  const base = ['rules', i];
  const sub = new YamlFileView(y, base);
  const r = ruleShape.safeParse(input);
  if (!r.success) {
    for (const issue of r.error.issues) sub.issue(issue);
    // Its playbook is still checked: one bad key must not hide a missing playbook.
    const named = (input as { playbook?: unknown } | null)?.playbook;
    if (typeof named === 'string' && !r.error.issues.some((i) => i.path[0] === 'playbook'))
      loadRulePlaybook(y, named, `rule ${i + 1}`, base, dir, cwd, problems);
    return undefined;
  }
  const raw = r.data;
  let ok = true;
  const bad = (p: (string | number)[], message: string): void => {
    ok = false;
    y.at([...base, ...p], `rule "${raw.name}": ${message}`);
  };
  let priority: PriorityTest | undefined;
  if (raw.match.priority !== undefined) {
    const t = parsePriorityTest(raw.match.priority);
    if (typeof t === 'string') bad(['match', 'priority'], t);
    else priority = t;
  }
  const loaded = loadRulePlaybook(y, raw.playbook, `rule "${raw.name}"`, base, dir, cwd, problems);
  const pb = loaded?.pb;
  const file = loaded?.file ?? '';
  if (!pb) ok = false;
  for (const [step, params] of Object.entries(raw.params ?? {})) {
    if (pb && !pb.steps.some((s) => s.id === step))
      bad(
        ['params', step],
        `params for step "${step}", which playbook ${pb.name} does not have (its steps: ${pb.steps.map((s) => s.id).join(', ')})`,
      );
    const m = malformedReference(params);
    if (m !== undefined)
      bad(['params', step], `"${m}" has a "\${" that is not a field reference like \${proc.pid}`);
    if (pb) {
      const s = pb.steps.find((x) => x.id === step);
      // Params without references can be checked now; the rest once an alert fills them in.
      if (s && !fieldsIn(params).length) {
        const parsed = s.action.params.safeParse({ ...s.rawParams, ...params });
        if (!parsed.success)
          for (const issue of parsed.error.issues)
            bad(
              ['params', step, ...issue.path.map(String)],
              `step "${step}" (${s.uses}): ${issue.message}`,
            );
      }
    }
  }
  if (!ok || !pb) return undefined;
  const m = raw.match;
  const list = (v: string | string[] | undefined): string[] | undefined =>
    v === undefined ? undefined : Array.isArray(v) ? v : [v];
  const tags =
    m.tags === undefined
      ? undefined
      : Array.isArray(m.tags[0])
        ? (m.tags as string[][])
        : [m.tags as string[]];
  return {
    ...raw,
    index: i,
    match: {
      rule: list(m.rule),
      priority,
      tags,
      output_fields: m.output_fields,
      source: list(m.source),
    },
    playbookFile: file,
    playbookSteps: pb.steps.map((s) => s.id),
    asks: pb.steps.some((s) => s.confirm),
  };
}

/** A rule's playbook, loaded as a run would load it; its own problems keep their own file:line:col. */
function loadRulePlaybook(
  y: YamlFile,
  ref: string,
  label: string,
  base: (string | number)[],
  dir: string,
  cwd: string,
  problems: ConfigProblem[],
): { pb: Playbook; file: string } | undefined {
  try {
    // A playbook named in a rule is looked for beside the config first, then as the CLI would.
    const file =
      ref.includes('/') || /\.ya?ml$/.test(ref)
        ? path.resolve(dir, ref)
        : resolveNamed(ref, dir, cwd);
    return { pb: loadPlaybook(file, registry, path.relative(cwd, file) || file), file };
  } catch (err) {
    if (err instanceof PlaybookError) {
      y.at(
        [...base, 'playbook'],
        `${label}: playbook ${ref} has ${err.problems.length} problem(s), listed below`,
      );
      for (const p of err.problems)
        problems.push({
          file: p.file,
          line: p.line,
          col: p.col,
          message: `${p.step ? `${p.step}: ` : ''}${p.message}`,
        });
    } else y.at([...base, 'playbook'], `${label}: ${(err as Error).message}`);
    return undefined;
  }
}

function resolveNamed(name: string, dir: string, cwd: string): string {
  for (const ext of ['.yaml', '.yml']) {
    const f = path.join(dir, 'playbooks', name + ext);
    if (fs.existsSync(f)) return f;
  }
  return resolvePlaybookPath(name, cwd);
}

/** A rule's zod issues reported at their place in the whole file. */
class YamlFileView {
  constructor(
    private readonly y: YamlFile,
    private readonly base: (string | number)[],
  ) {}

  issue(issue: { path: PropertyKey[]; message: string; code: string; keys?: string[] }): void {
    const p = [...this.base, ...issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k))];
    const where = p.join('.');
    if (issue.code === 'unrecognized_keys' && issue.keys) {
      for (const key of issue.keys) this.y.atKey(p, key, `unknown key "${key}" in ${where}`);
      return;
    }
    this.y.at(p, `${where}: ${issue.message}`);
  }
}
