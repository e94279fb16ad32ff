import { z } from 'zod';
import { UserError } from '../errors.js';
import { clip, safeText } from '../util/sanitize.js';
import type { CaseInfo, ManifestEntry } from './types.js';

/**
 * case.json and manifest.json are read back from folders anyone may have edited: checked at the
 * boundary so a damaged file is bad input naming the file (exit 2), never a TypeError deep inside a
 * command. The schemas check what the code relies on and keep every other field as it is.
 */
const caseInfoShape = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  target: z.looseObject({ id: z.string(), name: z.string() }),
  runs: z.array(z.looseObject({ playbook: z.string() })).optional(),
  incomplete: z.array(z.looseObject({ step: z.string(), reason: z.string() })).optional(),
  limitations: z.array(z.looseObject({ step: z.string(), reason: z.string() })).optional(),
});

const manifestEntryShape = z.looseObject({
  path: z.string().min(1),
  sha256: z.string(),
  bytes: z.number().int().nonnegative(),
});
const manifestShape = z.looseObject({ artifacts: z.array(manifestEntryShape) });

const HINT =
  'The case folder is damaged or was edited; restore the file from the sealed bundle (cases/<id>.tar.gz) or a copy.';

/** `what` parsed from `text`; throws UserError naming `file` (and the field) when it does not fit. */
function parseWith<T>(shape: z.ZodType, text: string, file: string, what: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new UserError(
      `${safeText(file)} is not valid JSON (${clip(safeText((err as Error).message), 160)})`,
      { hint: HINT },
    );
  }
  const r = shape.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue.path.length ? `"${issue.path.map(String).join('.')}": ` : '';
    throw new UserError(
      `${safeText(file)} is not ${what} (${clip(safeText(`${where}${issue.message}`), 160)})`,
      { hint: HINT },
    );
  }
  return r.data as T;
}

export function parseCaseInfo(text: string, file: string): CaseInfo {
  const info = parseWith<CaseInfo>(caseInfoShape, text, file, 'a cirt case.json');
  info.runs ??= [];
  return info;
}

export function parseManifest(text: string, file: string): ManifestEntry[] {
  return parseWith<{ artifacts: ManifestEntry[] }>(
    manifestShape,
    text,
    file,
    'a cirt manifest.json',
  ).artifacts;
}
