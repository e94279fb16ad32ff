import fs from 'node:fs';
import path from 'node:path';
import { CASE_ID } from '../evidence/case-store.js';
import { checkChain } from '../evidence/custody.js';
import { POST_SEAL_FILE } from '../evidence/post-seal-custody.js';
import type { AnyAction } from '../runner/action.js';
import { replay, type Replay } from './history.js';

/** Another case about the same container, as its custody says. */
export interface OtherCase {
  caseId: string;
  root: string;
  replay: Replay;
}

/**
 * Every other case on this container: each case folder in the case's own cases dir, plus the
 * folders the host-wide registry names (runs from other cases dirs). What each one holds comes
 * from its own custody (custody.jsonl, then custody.post-seal.jsonl), never from the registry.
 * A case whose custody cannot be read is named in `warnings` and counts as holding nothing.
 */
export function otherCases(
  self: { root: string; targetId: string },
  actions: readonly AnyAction[],
  extraRoots: readonly string[] = [],
): { cases: OtherCase[]; warnings: string[] } {
  const casesDir = path.dirname(self.root);
  const roots = new Set<string>();
  try {
    for (const name of fs.readdirSync(casesDir))
      if (CASE_ID.test(name)) roots.add(path.join(casesDir, name));
  } catch {
    // The cases dir of an open case is readable; if not, the registry still helps.
  }
  for (const r of extraRoots) roots.add(path.resolve(r));
  roots.delete(path.resolve(self.root));
  const cases: OtherCase[] = [];
  const warnings: string[] = [];
  for (const root of [...roots].sort()) {
    let info: { id?: unknown; target?: { id?: unknown } };
    try {
      info = JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8')) as typeof info;
    } catch {
      continue;
    }
    if (info?.target?.id !== self.targetId) continue;
    const caseId = typeof info.id === 'string' ? info.id : path.basename(root);
    const text = read(path.join(root, 'custody.jsonl')) + read(path.join(root, POST_SEAL_FILE));
    const { records, problems } = checkChain(text);
    if (problems.length) {
      warnings.push(
        `case ${caseId} (${root}) is on this container too, but its custody is damaged at line ${problems[0].line} (${problems[0].message}): what it holds is not known, it was not counted`,
      );
      continue;
    }
    cases.push({ caseId, root, replay: replay(records, actions) });
  }
  return { cases, warnings };
}

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
