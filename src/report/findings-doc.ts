import fs from 'node:fs';
import path from 'node:path';
import { versionsOf } from '../timeline/artifacts.js';
import type { FindingsDoc } from '../findings/types.js';

/**
 * The findings the seal's report should show: the newest findings.json of a case folder (the
 * evidence:findings step writes `findings-2.json` on a re-run). Undefined when the step did not run
 * or the file is not readable JSON — the report then says so rather than failing the seal.
 */
export function readFindingsForReport(caseRoot: string): FindingsDoc | undefined {
  let names: string[];
  try {
    names = fs.readdirSync(caseRoot).filter((n) => /^findings(-\d+)?\.json$/.test(n));
  } catch {
    return undefined;
  }
  const latest = versionsOf(names, 'findings.json').pop();
  if (!latest) return undefined;
  try {
    const doc = JSON.parse(fs.readFileSync(path.join(caseRoot, latest), 'utf8')) as FindingsDoc;
    return Array.isArray(doc?.findings) ? doc : undefined;
  } catch {
    return undefined;
  }
}
