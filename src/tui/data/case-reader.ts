import fs from 'node:fs';
import path from 'node:path';
import type { CaseInfo, ManifestEntry } from '../../evidence/types.js';
import { errorMessage } from '../../errors.js';
import { bySeverity } from '../../findings/evaluate.js';
import { readFindingsForReport } from '../../report/findings-doc.js';
import type { CaseData, Finding } from '../types.js';

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
  // The newest version: a re-run of the findings step writes findings-2.json.
  const findingsDoc = readFindingsForReport(dir);
  const artifacts = (manifest?.artifacts ?? []).map((a) => ({ path: a.path, bytes: a.bytes, sha256: a.sha256, complete: a.complete !== false }));
  const findings = findingsDoc ? bySeverity(findingsDoc.findings as Finding[]) : [];
  if (!findingsDoc) notes.push('no findings.json yet (the findings step has not run, or its file is not readable)');

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
