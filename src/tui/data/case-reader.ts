import fs from 'node:fs';
import path from 'node:path';
import { parseCaseInfo, parseManifest } from '../../evidence/case-shape.js';
import { errorMessage, UserError } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { bySeverity } from '../../findings/evaluate.js';
import { readFindingsForReport } from '../../report/findings-doc.js';
import type { CaseData, Finding } from '../types.js';

/** A case file checked by `parse` (case-shape.ts); a missing one is undefined, a damaged one a note. */
async function readChecked<T>(
  file: string,
  notes: string[],
  what: string,
  parse: (text: string, file: string) => T,
): Promise<T | undefined> {
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      notes.push(`${what}: ${errorMessage(err)}`);
    return undefined;
  }
  try {
    return parse(text, what);
  } catch (err) {
    notes.push(errorMessage(err));
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
  const info = await readChecked(path.join(dir, 'case.json'), notes, 'case.json', parseCaseInfo);
  if (!info)
    throw new UserError(
      `${safeText(dir)} is not a cirt case folder${notes.length ? `: ${notes.join('; ')}` : ' (no case.json)'}`,
      {
        hint: 'Pick a folder cirt created under cases/, or restore its case.json from the sealed bundle.',
      },
    );
  const artifactList = await readChecked(
    path.join(dir, 'manifest.json'),
    notes,
    'manifest.json',
    parseManifest,
  );
  // The newest version: a re-run of the findings step writes findings-2.json.
  const findingsDoc = readFindingsForReport(dir);
  const artifacts = (artifactList ?? []).map((a) => ({
    path: a.path,
    bytes: a.bytes,
    sha256: a.sha256,
    complete: a.complete !== false,
  }));
  const findings = findingsDoc ? bySeverity(findingsDoc.findings as Finding[]) : [];
  if (!findingsDoc)
    notes.push('no findings.json yet (the findings step has not run, or its file is not readable)');

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
    ...(typeof info.seal?.publicKeySha256 === 'string'
      ? {
          key: {
            fingerprint: safeText(info.seal.publicKeySha256),
            source: safeText(String(info.seal.key)),
            ...(typeof info.seal.tsa === 'string' ? { tsa: safeText(info.seal.tsa) } : {}),
          },
        }
      : {}),
    notes,
  };
}

/** Event ids the findings point at, for highlighting in the timeline. */
export function findingEventIds(findings: Finding[]): string[] {
  return [
    ...new Set(
      findings.flatMap((f) =>
        Array.isArray(f.events) ? f.events.filter((e) => typeof e === 'string') : [],
      ),
    ),
  ];
}
