import fs from 'node:fs';
import path from 'node:path';
import type { CaseInfo, ManifestEntry } from '../../evidence/types.js';
import { errorMessage } from '../../engine/errors.js';
import type { CaseData, Finding } from '../types.js';

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'info'];

/** Findings sorted most severe first (unknown severities last), stable within a severity. */
export function sortFindings(findings: Finding[]): Finding[] {
  const rank = (f: Finding): number => {
    const i = SEVERITY_ORDER.indexOf(String(f.severity).toLowerCase());
    return i < 0 ? SEVERITY_ORDER.length : i;
  };
  return findings.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map((x) => x.f);
}

async function readJson<T>(file: string, notes: string[], what: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') notes.push(`${what}: ${errorMessage(err)}`);
    return undefined;
  }
}

/** The `<hex>` of a `cases/<id>.tar.gz.sha256` file (`<hex>  <name>` or a bare hash). */
export function parseShaFile(text: string): string | undefined {
  return /^\s*\\?([0-9a-f]{64})\b/i.exec(text)?.[1]?.toLowerCase();
}

/**
 * Reads what the Case screen shows from a case folder: case.json, manifest.json, findings.json,
 * and the sealed bundle beside it (`<dir>.tar.gz` and its `.sha256`), when present.
 */
export async function readCase(dir: string, bundleHint?: string): Promise<CaseData> {
  const notes: string[] = [];
  const info = await readJson<CaseInfo>(path.join(dir, 'case.json'), notes, 'case.json');
  if (!info) throw new Error(`${dir} is not a cirt case folder (no readable case.json)`);
  const manifest = await readJson<{ artifacts?: ManifestEntry[] }>(path.join(dir, 'manifest.json'), notes, 'manifest.json');
  const findingsDoc = await readJson<{ findings?: Finding[] }>(path.join(dir, 'findings.json'), notes, 'findings.json');
  const artifacts = (manifest?.artifacts ?? []).map((a) => ({ path: a.path, bytes: a.bytes, sha256: a.sha256, complete: a.complete !== false }));
  const findings = Array.isArray(findingsDoc?.findings) ? sortFindings(findingsDoc.findings) : [];
  if (!findingsDoc) notes.push('no findings.json yet (the findings step has not run)');

  const bundlePath = bundleHint ?? `${dir.replace(/\/+$/, '')}.tar.gz`;
  let bundle: CaseData['bundle'];
  if (fs.existsSync(bundlePath)) {
    let sha256: string | undefined;
    try {
      sha256 = parseShaFile(await fs.promises.readFile(`${bundlePath}.sha256`, 'utf8'));
    } catch {
      notes.push(`no ${path.basename(bundlePath)}.sha256 beside the bundle`);
    }
    bundle = { path: bundlePath, ...(sha256 ? { sha256 } : {}) };
  }
  return {
    id: info.id,
    dir,
    status: info.status,
    target: `${info.target?.name ?? '?'} (${(info.target?.id ?? '').slice(0, 12)})`,
    artifacts,
    findings,
    ...(bundle ? { bundle } : {}),
    notes,
  };
}

/** Event ids the findings point at, for highlighting in the timeline. */
export function findingEventIds(findings: Finding[]): string[] {
  return [...new Set(findings.flatMap((f) => (Array.isArray(f.events) ? f.events.filter((e) => typeof e === 'string') : [])))];
}
