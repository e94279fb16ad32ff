import fs from 'node:fs';
import path from 'node:path';
import { versionsOf } from '../timeline/artifacts.js';
import { parseFindingsDoc } from '../findings/read-doc.js';
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
    // Damaged entries are dropped here (parseFindingsDoc repairs or skips them), so a tampered
    // findings.json can neither crash the seal's report nor inject unchecked values into it.
    return parseFindingsDoc(fs.readFileSync(path.join(caseRoot, latest), 'utf8'), latest).doc;
  } catch {
    return undefined;
  }
}
