import { UserError } from '../errors.js';
import type { CaseStore } from '../evidence/case-store.js';
import type { CaseInfo } from '../evidence/types.js';
import { safeText } from '../util/sanitize.js';

/**
 * Case metadata an auditor expects (NIST SP 800-61r2 §3.2.2, an acquisition log's header): given
 * on the command line or in the TUI, kept in case.json, shown in the report, recorded in custody.
 */
export interface CaseMeta {
  title?: string;
  ticket?: string;
  caseNumber?: string;
  evidenceNumber?: string;
  /** The examiner (--responder); default SUDO_USER@host, else user@host. */
  responder?: string;
  description?: string;
  notes?: string;
}

export const META_FIELDS = [
  'title',
  'ticket',
  'caseNumber',
  'evidenceNumber',
  'responder',
  'description',
  'notes',
] as const;

const LONG: ReadonlySet<string> = new Set(['description', 'notes']);
const FLAG: Record<(typeof META_FIELDS)[number], string> = {
  title: '--title',
  ticket: '--ticket',
  caseNumber: '--case-number',
  evidenceNumber: '--evidence-number',
  responder: '--responder',
  description: '--description',
  notes: '--notes',
};

/** Checks the given fields (bounded, printable; notes may have newlines) before anything is touched. */
export function checkCaseMeta(m: CaseMeta): CaseMeta {
  const out: CaseMeta = {};
  for (const k of META_FIELDS) {
    const v = m[k];
    if (v === undefined) continue;
    const max = LONG.has(k) ? 4000 : 200;
    const control = [...v].some((c) => {
      const n = c.charCodeAt(0);
      return (n < 0x20 && !(LONG.has(k) && c === '\n')) || n === 0x7f;
    });
    if (v.length > max || control || !v.trim())
      throw new UserError(
        `${FLAG[k]} "${safeText(v.slice(0, 60))}" is not usable: ${!v.trim() ? 'it is empty' : v.length > max ? `longer than ${max} characters` : 'it holds control characters'}`,
        {
          hint: `Give ${FLAG[k]} plain text${LONG.has(k) ? ' (newlines are fine)' : ' on one line'}.`,
        },
      );
    out[k] = v.trim();
  }
  return out;
}

/** The fields of `m` that differ from the case's, as a patch (empty: nothing to record). */
export function metaPatch(info: CaseInfo, m: CaseMeta): Partial<CaseInfo> {
  const patch: Partial<CaseInfo> = {};
  for (const k of META_FIELDS) if (m[k] !== undefined && m[k] !== info[k]) patch[k] = m[k];
  return patch;
}

/** Writes changed metadata into case.json and records it in custody (the values, as given). */
export async function applyCaseMeta(
  store: CaseStore,
  m: CaseMeta,
  actor: string,
  how: string,
  created = false,
): Promise<void> {
  // A new case has its metadata in case.json already: custody records it once, as given.
  const patch = created ? pickMeta(store.caseInfo) : metaPatch(store.caseInfo, m);
  if (!Object.keys(patch).length) return;
  if (!created) await store.updateInfo(patch);
  await store.record({
    actor,
    action: 'case:metadata',
    target: { id: store.caseInfo.target.id, name: store.caseInfo.target.name },
    result: 'info',
    message: `case metadata set (${how}): ${Object.keys(patch).join(', ')}`,
    details: patch as Record<string, unknown>,
  });
}

function pickMeta(info: CaseInfo): Partial<CaseInfo> {
  const out: Partial<CaseInfo> = {};
  for (const k of META_FIELDS) if (info[k] !== undefined) out[k] = info[k];
  return out;
}
