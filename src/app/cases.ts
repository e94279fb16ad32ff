import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../actions/index.js';
import { replay, undoables } from '../containment/history.js';
import { parseCaseInfo } from '../evidence/case-shape.js';
import { checkChain } from '../evidence/custody.js';
import { POST_SEAL_FILE } from '../evidence/post-seal-custody.js';
import { SEVERITIES, type Severity } from '../findings/rules.js';
import { latestOf } from '../timeline/artifacts.js';
import { caseIds, refAt, type CaseRef } from './case-ref.js';
import { casesDirOf, type AppEnv } from './env.js';

/** One row of `cirt cases`: what a case folder (or a bundle alone) says about itself. Offline. */
export interface CaseRow {
  id: string;
  folder: string | null;
  bundle: string | null;
  target: { id: string; name: string } | null;
  /** The engine address case.json names; null for a bundle alone. */
  engine: string | null;
  /** The last run's status (ok, failed, aborted…), else case.json's status. */
  status: string;
  sealed: boolean;
  /** Containment this case's custody says is still in force (applied or relied on, not released). */
  containment: { key: string; label: string }[];
  /** findings.json counts by severity (a finding has no closed state: every one is open). */
  findings: Partial<Record<Severity, number>> | null;
  /** No artifact but case.json and the custody log: a run that stopped before collecting anything. */
  empty: boolean;
  /** Why the row is thin: case.json or custody unreadable, bundle alone. */
  problem?: string;
  startedAt?: string;
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Reads one case's row from its folder (or names its bundle when only that is here). */
export function caseRow(ref: CaseRef): CaseRow {
  const row: CaseRow = {
    id: ref.id,
    folder: ref.folder ?? null,
    bundle: ref.bundle ?? null,
    target: null,
    engine: null,
    status: 'unknown',
    sealed: false,
    containment: [],
    findings: null,
    empty: false,
  };
  if (!ref.folder) {
    // A bundle is not opened here: it can be gigabytes. `cirt findings` / `verify` read it.
    row.status = 'sealed';
    row.sealed = true;
    row.problem = 'only the sealed bundle is here';
    return row;
  }
  const infoFile = path.join(ref.folder, 'case.json');
  try {
    const info = parseCaseInfo(fs.readFileSync(infoFile, 'utf8'), infoFile);
    row.target = { id: info.target.id, name: info.target.name };
    row.engine = typeof info.engine?.address === 'string' ? info.engine.address : null;
    row.sealed = info.status === 'sealed' || Boolean(info.seal);
    const last = info.runs.at(-1);
    row.status = typeof last?.status === 'string' && last.status ? last.status : info.status;
    if (row.status === 'sealed' && !last?.status) row.status = 'complete';
    row.startedAt = typeof info.startedAt === 'string' ? info.startedAt : undefined;
  } catch (err) {
    row.problem = `case.json cannot be read: ${(err as Error).message}`;
    return row;
  }
  const custody = checkChain(
    readOr(path.join(ref.folder, 'custody.jsonl')) + readOr(path.join(ref.folder, POST_SEAL_FILE)),
  );
  if (custody.problems.length) {
    row.problem = `custody damaged at line ${custody.problems[0].line}: containment in force is not known`;
  } else {
    const r = replay(custody.records, registry.list());
    row.containment = undoables(registry.list())
      .filter((a) => r.holds.has(a.undo.key))
      .map((a) => ({ key: a.undo.key, label: a.undo.label.replace(/^the /, '') }));
  }
  let files: string[] = [];
  try {
    const manifest = JSON.parse(readOr(path.join(ref.folder, 'manifest.json'))) as {
      artifacts?: { path?: unknown }[];
    };
    files = (manifest.artifacts ?? [])
      .map((a) => a.path)
      .filter((p): p is string => typeof p === 'string');
  } catch {
    // An unreadable manifest: counted as no artifacts, the problem is `cirt verify`'s to tell.
  }
  row.empty = files.length === 0 && !row.sealed;
  const findingsFile = latestOf(files, 'findings.json');
  if (findingsFile) {
    try {
      const doc = JSON.parse(readOr(path.join(ref.folder, findingsFile))) as {
        findings?: { severity?: unknown }[];
      };
      const counts: Partial<Record<Severity, number>> = {};
      for (const f of doc.findings ?? []) {
        const s = f.severity as Severity;
        if (SEVERITIES.includes(s)) counts[s] = (counts[s] ?? 0) + 1;
      }
      row.findings = counts;
    } catch {
      row.findings = null;
    }
  }
  return row;
}

/** Every case in the cases folder, oldest first (ids start with their UTC time). */
export function listCases(env: AppEnv): { casesDir: string; rows: CaseRow[] } {
  const casesDir = casesDirOf(env);
  const rows = caseIds(casesDir).map((id) => caseRow(refAt(casesDir, id)));
  return { casesDir, rows };
}

/** The cases whose custody still holds containment on a container (by id, or by id prefix / name). */
export function casesHolding(rows: readonly CaseRow[], container: string): CaseRow[] {
  return rows.filter(
    (r) =>
      r.containment.length > 0 &&
      r.target &&
      (r.target.id === container ||
        (container.length >= 4 && r.target.id.startsWith(container)) ||
        r.target.name === container ||
        r.target.name === container.replace(/^\//, '')),
  );
}

/**
 * What the cases folder says is held on each container (by full id): each measure with the cases
 * holding it. `cirt ps` shows it beside what the engine shows.
 */
export function heldMeasures(env: AppEnv): Map<string, { measure: string; cases: string[] }[]> {
  const out = new Map<string, { measure: string; cases: string[] }[]>();
  for (const r of listCases(env).rows) {
    if (!r.target) continue;
    const list = out.get(r.target.id) ?? [];
    for (const c of r.containment) {
      const m = list.find((x) => x.measure === c.label);
      if (m) m.cases.push(r.id);
      else list.push({ measure: c.label, cases: [r.id] });
    }
    if (list.length) out.set(r.target.id, list);
  }
  return out;
}
