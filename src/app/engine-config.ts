import fs from 'node:fs';
import path from 'node:path';
import { isMap, LineCounter, parseDocument, type Document, type Pair } from 'yaml';
import { z } from 'zod';
import { UserError, errorMessage } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * cirt's own config file: engines beyond the docker CLI's contexts. Found at `--config FILE`, else
 * `$CIRT_CONFIG`, else `$XDG_CONFIG_HOME/cirt/config.yaml` (default `~/.config/cirt/config.yaml`).
 * A file named explicitly must exist; the default one may be absent. Every problem is reported at
 * once with file:line:col, before any engine is contacted.
 *
 * ```yaml
 * engines:
 *   - name: lab-b
 *     host: tcp://10.0.0.5:2376
 *     tls: { ca: lab-b/ca.pem, cert: lab-b/cert.pem, key: lab-b/key.pem }   # relative to this file
 * ```
 */

/** The docker CLI's rule for context names (so a config engine and a context can share a name space). */
export const ENGINE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.+-]*$/;

const MAX_BYTES = 256 * 1024;
const MAX_ALIASES = 50;

const tlsShape = z.strictObject({
  ca: z.string().min(1).optional(),
  cert: z.string().min(1).optional(),
  key: z.string().min(1).optional(),
  /** false: encrypted but the engine's certificate is not checked (docker's SkipTLSVerify). */
  verify: z.boolean().optional(),
});

const engineShape = z.strictObject({
  name: z
    .string()
    .regex(ENGINE_NAME, 'an engine name is letters, digits and _ . + - (not starting with one)')
    .max(64)
    .refine((n) => n !== 'default', '"default" is the engine DOCKER_HOST / the local socket names'),
  host: z.string().min(1),
  description: z.string().optional(),
  tls: tlsShape.optional(),
});

const configShape = z.strictObject({
  engines: z.array(engineShape).max(256).optional(),
});

/** One engine of the config, TLS paths made absolute. */
export interface ConfiguredEngine {
  name: string;
  host: string;
  description?: string;
  tls?: { ca?: string; cert?: string; key?: string; verify: boolean };
  /** `file:line` of its entry, for messages. */
  at: string;
}

export interface EngineConfig {
  /** The file read; undefined when the default location holds none. */
  file?: string;
  engines: ConfiguredEngine[];
}

export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** Thrown when the config file has problems; carries all of them. */
export class EngineConfigError extends UserError {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      `${problems.length} problem${problems.length === 1 ? '' : 's'} in cirt's config:\n${problems
        .map((p) => `${safeText(p.file)}:${p.line}:${p.col}: ${safeText(p.message)}`)
        .join('\n')}`,
      {
        hint: 'Fix the config file (or name another with --config / CIRT_CONFIG); nothing was run.',
      },
    );
  }
}

/** Where the config is looked for, and whether it was named explicitly (then it must exist). */
export function configPath(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): { file: string; explicit: boolean } {
  const named = explicit ?? (env.CIRT_CONFIG || undefined);
  if (named) return { file: path.resolve(cwd, named), explicit: true };
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME ?? '', '.config');
  return { file: path.join(base, 'cirt', 'config.yaml'), explicit: false };
}

/** Reads and validates the config (see configPath); EngineConfigError lists every problem. */
export function loadEngineConfig(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): EngineConfig {
  const where = configPath(explicit, env, cwd);
  let text: string;
  try {
    const st = fs.statSync(where.file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_BYTES) throw new Error(`larger than ${MAX_BYTES} bytes`);
    text = fs.readFileSync(where.file, 'utf8');
  } catch (err) {
    if (!where.explicit && (err as NodeJS.ErrnoException).code === 'ENOENT') return { engines: [] };
    throw new UserError(`Cannot read cirt's config ${safeText(where.file)}: ${errorMessage(err)}`, {
      hint: where.explicit
        ? 'Check the path given with --config or CIRT_CONFIG.'
        : 'Fix its permissions, or name another file with --config.',
    });
  }
  const { config, problems } = parseEngineConfig(text, where.file);
  if (problems.length || !config) throw new EngineConfigError(problems);
  return config;
}

/** Validates config text: the config (when valid) and all problems. Pure: no engine, no file read. */
export function parseEngineConfig(
  text: string,
  file: string,
): { config?: EngineConfig; problems: ConfigProblem[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const problems: ConfigProblem[] = [];
  const at = (offset: number | undefined, message: string): void => {
    const pos = lc.linePos(offset ?? 0);
    problems.push({ file, line: pos.line, col: pos.col, message });
  };
  for (const e of doc.errors) at(e.pos[0], e.message.split('\n')[0]);
  if (doc.errors.length) return { problems };
  let js: unknown;
  try {
    js = doc.toJS({ maxAliasCount: MAX_ALIASES }) ?? {};
  } catch (err) {
    at(0, `${errorMessage(err)} (aliases expand to more than ${MAX_ALIASES} nodes)`);
    return { problems };
  }
  const parsed = configShape.safeParse(js);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) reportIssue(doc, issue, at);
    return { problems };
  }
  const dir = path.dirname(file);
  const abs = (p: string | undefined): string | undefined =>
    p === undefined ? undefined : path.resolve(dir, p);
  const seen = new Map<string, number>();
  const engines: ConfiguredEngine[] = [];
  (parsed.data.engines ?? []).forEach((e, i) => {
    const line = lc.linePos(nodeStart(doc.getIn(['engines', i], true)) ?? 0).line;
    const first = seen.get(e.name);
    if (first !== undefined) {
      at(
        nodeStart(doc.getIn(['engines', i, 'name'], true)),
        `duplicate engine name "${e.name}" (also line ${first})`,
      );
      return;
    }
    seen.set(e.name, line);
    engines.push({
      name: e.name,
      host: e.host,
      ...(e.description ? { description: e.description } : {}),
      ...(e.tls
        ? {
            tls: {
              ...(e.tls.ca ? { ca: abs(e.tls.ca) } : {}),
              ...(e.tls.cert ? { cert: abs(e.tls.cert) } : {}),
              ...(e.tls.key ? { key: abs(e.tls.key) } : {}),
              verify: e.tls.verify ?? true,
            },
          }
        : {}),
      at: `${file}:${line}`,
    });
  });
  if (problems.length) return { problems };
  return { config: { file, engines }, problems };
}

function nodeStart(node: unknown): number | undefined {
  return (node as { range?: [number, number, number] } | undefined)?.range?.[0];
}

/** Maps a zod issue to the YAML node it is about (for unknown keys: the key itself). */
function reportIssue(
  doc: Document,
  issue: z.core.$ZodIssue,
  at: (offset: number | undefined, message: string) => void,
): void {
  const p = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
  const where = p.join('.');
  if (issue.code === 'unrecognized_keys') {
    const map = p.length ? doc.getIn(p, true) : doc.contents;
    for (const key of issue.keys) {
      const pair = isMap(map)
        ? (map.items as Pair[]).find((it) => (it.key as { value?: unknown })?.value === key)
        : undefined;
      at(
        nodeStart(pair?.key) ?? nodeStart(map),
        `unknown key "${key}"${where ? ` in ${where}` : ''}`,
      );
    }
    return;
  }
  let node: unknown;
  for (let n = p.length; n >= 0; n--) {
    node = n === 0 ? doc.contents : doc.getIn(p.slice(0, n), true);
    if (node) break;
  }
  at(nodeStart(node), `${where ? `"${where}": ` : ''}${issue.message}`);
}
