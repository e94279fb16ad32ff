import fs from 'node:fs';
import path from 'node:path';
import { checkIncidentFiles, type IncidentCase, type IncidentCheck } from '../evidence/incident.js';
import { loadPublicKeyFile } from '../evidence/sign.js';
import type { VerifyReport } from '../evidence/verify.js';
import { safeText } from '../util/sanitize.js';
import { verifyInput } from './verify.js';

/** One case of an incident as `cirt verify INCIDENT` found it. */
export interface IncidentCaseReport {
  entry: IncidentCase;
  /** The bundle's own full check (as `cirt verify BUNDLE`); null when there is no bundle to check. */
  report: VerifyReport | null;
  ok: boolean;
  /** Why it is not ok, in one line each. */
  problems: string[];
}

export interface IncidentVerifyReport {
  ok: boolean;
  incidentId: string | null;
  files: IncidentCheck;
  cases: IncidentCaseReport[];
  /** Bundles in the folder that incident.json does not list (added after the seal). */
  unlisted: string[];
}

/**
 * `cirt verify INCIDENT`: the incident's signature and SHA256SUMS, then every listed bundle in full
 * (hashes, manifest, custody chain, its own signature) exactly as `cirt verify BUNDLE` would. A
 * case without a sealed bundle is named as not verifiable: only sealed evidence verifies.
 */
export async function verifyIncident(o: {
  dir: string;
  pubkey?: string;
  cwd: string;
}): Promise<IncidentVerifyReport> {
  const dir = path.resolve(o.cwd, o.dir);
  const expectedKey = o.pubkey ? loadPublicKeyFile(path.resolve(o.cwd, o.pubkey)) : undefined;
  const files = await checkIncidentFiles(dir, expectedKey);
  const cases: IncidentCaseReport[] = [];
  const listed = new Set<string>();
  for (const entry of files.manifest?.cases ?? []) {
    const problems: string[] = [];
    let report: VerifyReport | null = null;
    const bundle = entry.bundle;
    if (!bundle) {
      problems.push(
        entry.caseId
          ? `case ${safeText(entry.caseId)} has no sealed bundle (its run ended ${safeText(entry.status)}): seal it with \`cirt seal --case ${safeText(entry.caseId)} --cases-dir ${safeText(dir)}\`; the incident manifest still will not list it`
          : `no case was opened for ${safeText(entry.target?.name)} (${safeText(entry.message)})`,
      );
    } else if (bundle.path.includes('/') || bundle.path.includes('..')) {
      problems.push(
        `its bundle path ${safeText(bundle.path)} is not a file of the incident folder`,
      );
    } else {
      listed.add(bundle.path);
      try {
        report = (
          await verifyInput({ input: path.join(dir, bundle.path), pubkey: o.pubkey, cwd: o.cwd })
        ).report;
        for (const p of report.problems)
          problems.push(
            `${safeText(p.file)}${p.line !== undefined ? ` line ${p.line}` : ''}: ${safeText(p.message)}`,
          );
        if (report.caseId !== entry.caseId)
          problems.push(
            `the bundle holds case ${safeText(report.caseId)}, not ${safeText(entry.caseId)}`,
          );
      } catch (err) {
        problems.push(`${safeText(bundle.path)}: ${safeText((err as Error).message)}`);
      }
      const sumProblem = files.problems.find((p) => p.file === bundle.path);
      if (sumProblem) problems.unshift(`${safeText(bundle.path)} ${sumProblem.message}`);
    }
    cases.push({ entry, report, ok: problems.length === 0, problems });
  }
  let unlisted: string[] = [];
  try {
    unlisted = fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.tar.gz') && !listed.has(n))
      .sort();
  } catch {
    // The folder itself is checked above.
  }
  const ok =
    files.problems.length === 0 &&
    files.manifest !== null &&
    cases.every((c) => c.ok) &&
    unlisted.length === 0;
  return { ok, incidentId: files.manifest?.id ?? null, files, cases, unlisted };
}
