import type { ManifestEntry } from '../evidence/types.js';
import { safeText } from '../util/sanitize.js';
import type { CaseSource } from '../evidence/case-source.js';

/**
 * A re-run never overwrites evidence: `fs/changes.json` becomes `fs/changes-2.json`. These helpers find
 * the versions of a logical artifact among the case's files.
 */
export function versionsOf(files: readonly string[], rel: string): string[] {
  const dot = rel.lastIndexOf('.');
  const slash = rel.lastIndexOf('/');
  const [base, ext] = dot > slash + 1 ? [rel.slice(0, dot), rel.slice(dot)] : [rel, ''];
  const found: { path: string; n: number }[] = [];
  for (const f of files) {
    if (f === rel) found.push({ path: f, n: 1 });
    else if (f.startsWith(`${base}-`) && f.endsWith(ext)) {
      const mid = f.slice(base.length + 1, f.length - ext.length);
      if (/^[2-9]$|^[1-9]\d+$/.test(mid)) found.push({ path: f, n: Number(mid) });
    }
  }
  return found.sort((a, b) => a.n - b.n).map((x) => x.path);
}

/** The newest version of an artifact (a later collection supersedes an earlier one), if any. */
export function latestOf(files: readonly string[], rel: string): string | undefined {
  const v = versionsOf(files, rel);
  return v[v.length - 1];
}

/** Collects notes and warnings; caps repeats per artifact so a broken 1M-line file stays readable. */
export class Diagnostics {
  readonly notes: string[] = [];
  readonly warnings: string[] = [];
  private readonly perArtifact = new Map<string, number>();
  private static readonly CAP = 20;

  constructor(private readonly onWarning?: (m: string) => void) {}

  note(message: string): void {
    this.notes.push(message);
  }

  warn(message: string, artifact?: string): void {
    if (artifact) {
      const n = (this.perArtifact.get(artifact) ?? 0) + 1;
      this.perArtifact.set(artifact, n);
      if (n > Diagnostics.CAP) return;
      if (n === Diagnostics.CAP)
        message = `${message} (further problems in ${artifact} are counted, not listed)`;
    }
    this.warnings.push(message);
    this.onWarning?.(message);
  }

  /** Problems beyond the cap, per artifact, as one line each. */
  finish(): void {
    for (const [artifact, n] of this.perArtifact) {
      if (n > Diagnostics.CAP) this.warnings.push(`${artifact}: ${n} problems in all`);
    }
  }
}

/** Reads a JSON artifact; a missing file is undefined, a malformed one is a warning and undefined. */
export async function readJson<T = unknown>(
  src: CaseSource,
  rel: string,
  diag: Diagnostics,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await src.readText(rel);
  } catch (err) {
    diag.warn(`${rel}: cannot read (${safeText((err as Error).message)})`, rel);
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    diag.warn(`${rel}: not valid JSON (${safeText((err as Error).message)}); skipped`, rel);
    return undefined;
  }
}

/** manifest.json's entries by path (collection times of each artifact). */
export async function loadManifest(
  src: CaseSource,
  files: readonly string[],
  diag: Diagnostics,
): Promise<Map<string, ManifestEntry>> {
  const out = new Map<string, ManifestEntry>();
  if (!files.includes('manifest.json')) {
    diag.note(
      'manifest.json: absent; artifacts observed at collection time (sockets) have no time',
    );
    return out;
  }
  const doc = await readJson<{ artifacts?: unknown }>(src, 'manifest.json', diag);
  const list = Array.isArray(doc?.artifacts) ? (doc.artifacts as ManifestEntry[]) : [];
  for (const e of list) if (e && typeof e.path === 'string') out.set(e.path, e);
  return out;
}

/** Reads a JSON artifact that must be a list; anything else is a warning and undefined. */
export async function readJsonList(
  src: CaseSource,
  rel: string,
  diag: Diagnostics,
  what: string,
): Promise<unknown[] | undefined> {
  const doc = await readJson<unknown>(src, rel, diag);
  if (Array.isArray(doc)) return doc;
  if (doc !== undefined) diag.warn(`${rel}: not a list of ${what}; skipped`, rel);
  return undefined;
}
