import { INCIDENT_FILE, isIncidentDir } from './incident-dir.js';
import fs from 'node:fs';
import path from 'node:path';
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { openCaseSource, type CaseSource } from './case-source.js';
import { formatSums, parseSums } from './sha256sums.js';
import {
  generateSigningKey,
  keyFingerprint,
  loadSigningKey,
  publicKeyOf,
  publicPem,
  signData,
  verifyData,
} from './sign.js';
import { hashFile } from './verify-read.js';

/**
 * The incident folder of a multi-target run (docs/incidents.md, docs/evidence-formats.md):
 * `incident.json` lists every case with its engine, target, status and bundle hash; `SHA256SUMS`
 * covers incident.json and every bundle; `SHA256SUMS.sig` + `pub.pem` sign it exactly as a case's
 * seal does, so `sha256sum -c SHA256SUMS` and `openssl pkeyutl -verify … -rawin` check it.
 */

export const INCIDENT_SCHEMA = 'cirt.incident/1';

/** One case of an incident, as incident.json lists it. */
export interface IncidentCase {
  /** null when the run could not open a case (the container was taken by another run, gone…). */
  caseId: string | null;
  engine: { name: string; address: string };
  target: { id: string; name: string; image: string };
  /** The run's status (docs/statuses.md), or `failed` when no run started. */
  status: string;
  exitCode: number;
  message: string;
  /** The sealed bundle, relative to the incident folder; null when the case was not sealed. */
  bundle: { path: string; sha256: string; bytes: number } | null;
}

export interface IncidentManifest {
  schema: typeof INCIDENT_SCHEMA;
  id: string;
  playbook: { name: string; file: string };
  title?: string;
  ticket?: string;
  responder: string;
  host: string;
  tool: { name: 'cirt'; version: string };
  /** How the set was chosen: `-t` refs and `--filter` texts, and the limit it was checked against. */
  selection: {
    targets: string[];
    filters: string[];
    maxTargets: number;
    /** The engines searched. */
    engines: string[];
    /** Engines of `--engines` that did not answer: their containers are not in the incident. */
    unreachable?: { engine: string; message: string }[];
  };
  startedAt: string;
  finishedAt?: string;
  /** `running` while the run goes on; then `ok` (every case ok), `failed` or `aborted`. */
  status: 'running' | 'ok' | 'failed' | 'aborted';
  exitCode?: number;
  /** How many cases ended in each status. */
  counts: Record<string, number>;
  message?: string;
  cases: IncidentCase[];
}

/** Writes incident.json whole (tmp + rename): a reader never sees half of it. */
export function writeIncidentFile(dir: string, m: IncidentManifest): Buffer {
  const data = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  const tmp = path.join(dir, `.${INCIDENT_FILE}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, data, { flag: 'w', mode: 0o644 });
  fs.renameSync(tmp, path.join(dir, INCIDENT_FILE));
  return data;
}

/**
 * Seals the incident: the final incident.json, SHA256SUMS over it and every bundle it lists
 * (hashed now, from disk), the Ed25519 signature and the public key. Returns the key's fingerprint.
 */
export async function sealIncident(
  dir: string,
  m: IncidentManifest,
  signKeyPath?: string,
): Promise<{ publicKeySha256: string }> {
  const data = writeIncidentFile(dir, m);
  const entries = [{ name: INCIDENT_FILE, sha256: sha256Of(data) }];
  for (const c of m.cases) {
    if (!c.bundle) continue;
    entries.push({
      name: c.bundle.path,
      sha256: (await hashFile(path.join(dir, c.bundle.path))).sha256,
    });
  }
  const sums = Buffer.from(formatSums(entries));
  const key: KeyObject = signKeyPath ? loadSigningKey(signKeyPath) : generateSigningKey();
  fs.writeFileSync(path.join(dir, 'SHA256SUMS'), sums);
  fs.writeFileSync(path.join(dir, 'SHA256SUMS.sig'), signData(sums, key));
  fs.writeFileSync(path.join(dir, 'pub.pem'), publicPem(key));
  return { publicKeySha256: keyFingerprint(key) };
}

/** Whether a folder is an incident (it has incident.json), not a case. */

const MAX_CONTROL = 16 * 1024 * 1024;

const sha256Of = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

function readSmall(file: string): Buffer | null {
  try {
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.size > MAX_CONTROL) return null;
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

/** What the incident's own files say: its signature, its SHA256SUMS, and the manifest's cases. */
export interface IncidentCheck {
  manifest: IncidentManifest | null;
  signature: { valid: boolean; publicKeySha256: string | null; expectedKey?: string };
  /** Problems with incident.json, SHA256SUMS, the signature or a listed bundle's bytes. */
  problems: { file: string; message: string }[];
}

/** Checks the incident's control files and each bundle's hash against SHA256SUMS (not the bundles' insides). */
export async function checkIncidentFiles(
  dir: string,
  expectedKey?: KeyObject,
): Promise<IncidentCheck> {
  const problems: IncidentCheck['problems'] = [];
  const sums = readSmall(path.join(dir, 'SHA256SUMS'));
  const sig = readSmall(path.join(dir, 'SHA256SUMS.sig'));
  const pem = readSmall(path.join(dir, 'pub.pem'));
  const signature: IncidentCheck['signature'] = { valid: false, publicKeySha256: null };
  if (!sums) problems.push({ file: 'SHA256SUMS', message: 'missing: the incident was not sealed' });
  if (!sig) problems.push({ file: 'SHA256SUMS.sig', message: 'missing' });
  let key: KeyObject | undefined;
  if (!pem) problems.push({ file: 'pub.pem', message: 'missing' });
  else {
    try {
      key = createPublicKey(pem);
      signature.publicKeySha256 = keyFingerprint(key);
    } catch (err) {
      problems.push({ file: 'pub.pem', message: `not a public key: ${(err as Error).message}` });
    }
  }
  if (expectedKey) {
    signature.expectedKey = keyFingerprint(publicKeyOf(expectedKey));
    if (signature.publicKeySha256 && signature.publicKeySha256 !== signature.expectedKey)
      problems.push({ file: 'pub.pem', message: 'is not the expected key (--pubkey)' });
  }
  const checkKey = expectedKey ? publicKeyOf(expectedKey) : key;
  if (sums && sig && checkKey) {
    signature.valid = verifyData(sums, sig, checkKey);
    if (!signature.valid)
      problems.push({ file: 'SHA256SUMS.sig', message: 'the signature does not match SHA256SUMS' });
  }
  const listed = sums ? parseSums(sums.toString('utf8')) : undefined;
  for (const p of listed?.problems ?? [])
    problems.push({ file: 'SHA256SUMS', message: `line ${p.line}: ${p.message}` });
  const raw = readSmall(path.join(dir, INCIDENT_FILE));
  let manifest: IncidentManifest | null = null;
  if (!raw) problems.push({ file: INCIDENT_FILE, message: 'missing or not a regular file' });
  else {
    try {
      const parsed = JSON.parse(raw.toString('utf8')) as IncidentManifest;
      if (parsed?.schema !== INCIDENT_SCHEMA || !Array.isArray(parsed.cases))
        problems.push({ file: INCIDENT_FILE, message: `not a ${INCIDENT_SCHEMA} document` });
      else manifest = parsed;
    } catch (err) {
      problems.push({ file: INCIDENT_FILE, message: `not JSON: ${(err as Error).message}` });
    }
  }
  if (listed) {
    const want = new Set(listed.entries.keys());
    for (const [name, e] of listed.entries) {
      // Names come from a file that may have been edited: only plain names inside the folder.
      if (name.includes('..') || path.isAbsolute(name) || name.includes('/')) {
        problems.push({
          file: 'SHA256SUMS',
          message: `line ${e.line}: ${safeText(name)} is not a file of the incident folder`,
        });
        continue;
      }
      const f = path.join(dir, name);
      try {
        const st = fs.lstatSync(f);
        if (!st.isFile()) throw new Error('not a regular file');
        const got = name === INCIDENT_FILE && raw ? sha256Of(raw) : (await hashFile(f)).sha256;
        if (got !== e.sha256)
          problems.push({ file: name, message: 'does not match its SHA256SUMS line' });
      } catch (err) {
        problems.push({
          file: name,
          message: `listed in SHA256SUMS but unreadable: ${(err as Error).message}`,
        });
      }
    }
    if (!want.has(INCIDENT_FILE))
      problems.push({ file: 'SHA256SUMS', message: `${INCIDENT_FILE} is not listed` });
    for (const c of manifest?.cases ?? []) {
      if (c.bundle && !want.has(c.bundle.path))
        problems.push({
          file: 'SHA256SUMS',
          message: `the bundle of case ${safeText(c.caseId)} (${safeText(c.bundle.path)}) is not listed`,
        });
    }
  }
  return { manifest, signature, problems };
}

/** incident.json, read for the offline readers (timeline, findings): no verification here (`cirt verify` does that). */
export function readIncidentManifest(dir: string): IncidentManifest {
  const raw = readSmall(path.join(dir, INCIDENT_FILE));
  let m: IncidentManifest | undefined;
  try {
    m = raw ? (JSON.parse(raw.toString('utf8')) as IncidentManifest) : undefined;
  } catch {
    m = undefined;
  }
  if (!m || m.schema !== INCIDENT_SCHEMA || !Array.isArray(m.cases))
    throw new UserError(
      `${safeText(path.join(dir, INCIDENT_FILE))} is not a readable ${INCIDENT_SCHEMA} manifest`,
      {
        hint: 'Run `cirt verify` on the incident folder to see what is wrong with it.',
      },
    );
  return m;
}

/** One case of an incident opened for reading, and how its rows are labelled. */
export interface IncidentCaseSource {
  entry: IncidentCase;
  src: CaseSource;
  /** `name` on one engine, `name@engine` across several: the container column. */
  container: string;
}

/**
 * Every case of an incident, opened read-only: its case folder when it is here, else its sealed
 * bundle; a case with neither is a warning (the others are still read).
 */
export async function openIncidentCases(
  dir: string,
  warn: (m: string) => void,
): Promise<{ manifest: IncidentManifest; cases: IncidentCaseSource[] }> {
  const manifest = readIncidentManifest(dir);
  const engines = new Set(manifest.cases.map((c) => c.engine?.name)).size;
  const cases: IncidentCaseSource[] = [];
  for (const entry of manifest.cases) {
    const name = String(entry.target?.name ?? '?');
    const container = engines > 1 ? `${name}@${String(entry.engine?.name)}` : name;
    const plain = (p: unknown): p is string =>
      typeof p === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(p);
    const bundle =
      entry.bundle && plain(entry.bundle.path) ? path.join(dir, entry.bundle.path) : null;
    const folder = plain(entry.caseId) ? path.join(dir, entry.caseId) : null;
    // The folder when it is here (no inflating, no member cache per case: 50 cases stay cheap), else the bundle.
    const at =
      folder && fs.existsSync(folder) ? folder : bundle && fs.existsSync(bundle) ? bundle : null;
    if (!at) {
      warn(
        `case ${safeText(entry.caseId ?? name)} of the incident has no bundle or folder here; left out`,
      );
      continue;
    }
    cases.push({ entry, src: await openCaseSource(at, { warn }), container });
  }
  return { manifest, cases };
}

export { INCIDENT_FILE, isIncidentDir };
