import { isMap, LineCounter, parseDocument, type Document, type Pair } from 'yaml';
import type { z } from 'zod';
import { safeText } from '../util/sanitize.js';

/** One problem of a config file, with where it is. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatConfigProblem(p: ConfigProblem): string {
  return `${safeText(p.file)}:${p.line}:${p.col}: ${safeText(p.message)}`;
}

/** Aliases resolved per document: a config needs a handful; an alias bomb needs millions. */
const MAX_ALIASES = 50;

type Key = string | number;

/**
 * A YAML file read for validation: every problem is collected with its file:line:col, from the YAML
 * syntax through the zod schema to checks the caller adds (`at(path, message)`), so the operator sees
 * them all at once.
 */
export class YamlFile {
  readonly problems: ConfigProblem[] = [];
  private readonly lc = new LineCounter();
  private readonly doc: Document;
  readonly value: unknown;
  readonly ok: boolean;

  constructor(
    text: string,
    readonly file: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lc, prettyErrors: false, uniqueKeys: true });
    for (const e of this.doc.errors) this.atOffset(e.pos[0], e.message.split('\n')[0]);
    let value: unknown;
    if (!this.doc.errors.length) {
      try {
        value = this.doc.toJS({ maxAliasCount: MAX_ALIASES });
      } catch (err) {
        this.atOffset(0, `${(err as Error).message} (too many or unresolved aliases)`);
      }
    }
    this.value = value;
    this.ok = this.problems.length === 0;
  }

  /** Checks the document against a schema; every issue becomes a problem at its node. */
  parse<S extends z.ZodType>(schema: S): z.infer<S> | undefined {
    if (!this.ok) return undefined;
    const r = schema.safeParse(this.value ?? {});
    if (r.success) return r.data;
    for (const issue of r.error.issues) this.issue(issue);
    return undefined;
  }

  /** A problem at the node of `path` (or the deepest part of it that exists). */
  at(path: Key[], message: string): void {
    this.atOffset(this.offsetOf(path), message);
  }

  /** A problem at a key of the mapping at `path` (an unknown key: the key itself, not its value). */
  atKey(path: Key[], key: string, message: string): void {
    const map = path.length ? this.doc.getIn(path, true) : this.doc.contents;
    const pair = isMap(map)
      ? (map.items as Pair[]).find((it) => (it.key as { value?: unknown })?.value === key)
      : undefined;
    const start = (pair?.key as { range?: [number] } | undefined)?.range?.[0];
    this.atOffset(start ?? this.offsetOf(path), message);
  }

  private atOffset(offset: number | undefined, message: string): void {
    const pos = this.lc.linePos(offset ?? 0);
    this.problems.push({ file: this.file, line: pos.line, col: pos.col, message });
  }

  private offsetOf(path: Key[]): number | undefined {
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(path.slice(0, n), true);
      const start = (node as { range?: [number, number, number] } | null)?.range?.[0];
      if (start !== undefined) return start;
    }
    return undefined;
  }

  private issue(issue: z.core.$ZodIssue): void {
    const path = issue.path.map((k) => (typeof k === 'symbol' ? String(k) : k));
    const where = path.join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        this.atKey(path, key, `unknown key "${key}"${where ? ` in ${where}` : ''}`);
      return;
    }
    this.at(path, `${where ? `${where}: ` : ''}${issue.message}`);
  }
}
