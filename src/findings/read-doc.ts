import { UserError } from '../errors.js';
import { clip, safeText } from '../util/sanitize.js';
import type { EvidenceRef } from './evidence.js';
import type { Finding, FindingsDoc } from './types.js';

/**
 * findings.json as read back from a case or a bundle made elsewhere: untrusted. A file that is not a
 * findings document at all is bad input (UserError naming the file, exit 2); damaged entries inside a
 * good document are dropped or repaired with one problem each, and the rest is shown.
 */
export interface FindingsRead {
  doc: FindingsDoc;
  /** `findings.json: findings[3]: …` — one per damaged entry or field. */
  problems: string[];
}

const HINT =
  'The file is damaged or was edited; re-run evidence:findings on the case folder, or `cirt findings <case> --rules <rules.yaml>` to evaluate afresh.';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON.parse message quotes the input: keep it short and free of control characters. */
export function jsonErrorText(err: unknown): string {
  return clip(safeText((err as Error)?.message ?? String(err)), 160);
}

/** Parses findings.json text; throws UserError naming `rel` when it is not a findings document. */
export function parseFindingsDoc(text: string, rel: string): FindingsRead {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${safeText(rel)} is not valid JSON (${jsonErrorText(err)})`, {
      hint: HINT,
    });
  }
  if (!isObject(raw)) {
    throw new UserError(
      `${safeText(rel)} is not a findings document (expected an object with a "findings" list, got ${describe(raw)})`,
      { hint: HINT },
    );
  }
  if (!Array.isArray(raw.findings)) {
    throw new UserError(`${safeText(rel)}: "findings" is ${describe(raw.findings)}, not a list`, {
      hint: HINT,
    });
  }
  const problems: string[] = [];
  const findings: Finding[] = [];
  raw.findings.forEach((f: unknown, i: number) => {
    const at = `${rel}: findings[${i}]`;
    if (!isObject(f)) {
      problems.push(`${at}: ${describe(f)}, not a finding; skipped`);
      return;
    }
    const field = (k: string, fallback: string): string => {
      const v = f[k];
      if (typeof v === 'string') return v;
      if (v !== undefined) problems.push(`${at}: "${k}" is ${describe(v)}, not text`);
      return fallback;
    };
    let evidence: EvidenceRef[] = [];
    if (Array.isArray(f.evidence)) {
      f.evidence.forEach((e: unknown, j: number) => {
        if (isObject(e) && typeof e.artifact === 'string') {
          const ref = isObject(e.ref) ? e.ref : {};
          evidence.push({
            artifact: e.artifact,
            ref: {
              ...(Number.isSafeInteger(ref.line) ? { line: ref.line as number } : {}),
              ...(Number.isSafeInteger(ref.entry) ? { entry: ref.entry as number } : {}),
              ...(typeof ref.field === 'string' ? { field: ref.field } : {}),
            },
          });
        } else problems.push(`${at}: evidence[${j}] is not {artifact, ref}; skipped`);
      });
    } else if (f.evidence !== undefined) {
      problems.push(`${at}: "evidence" is ${describe(f.evidence)}, not a list; ignored`);
      evidence = [];
    }
    const events = Array.isArray(f.events)
      ? f.events.filter((e): e is string => typeof e === 'string')
      : [];
    if (f.events !== undefined && (!Array.isArray(f.events) || events.length !== f.events.length))
      problems.push(`${at}: "events" is not a list of event ids; kept what is`);
    findings.push({
      id: field('id', `#${i + 1}`),
      rule: field('rule', '?'),
      title: field('title', '(no title)'),
      severity: field('severity', 'unknown') as Finding['severity'],
      technique: field('technique', '?'),
      summary: field('summary', ''),
      evidence,
      events,
    });
  });
  const notes = Array.isArray(raw.notes)
    ? raw.notes.filter((n): n is string => typeof n === 'string')
    : undefined;
  const rulesVersion = typeof raw.rulesVersion === 'string' ? raw.rulesVersion : '?';
  return { doc: { rulesVersion, findings, ...(notes?.length ? { notes } : {}) }, problems };
}

/** `null`, `a list`, `a number`, … for messages (never the value itself: it is the attacker's). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}
