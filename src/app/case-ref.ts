import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { CASE_ID } from '../evidence/case-store.js';
import { safeText } from '../util/sanitize.js';
import { casesDirOf, type AppEnv } from './env.js';

const BUNDLE = '.tar.gz';

/** A case as the user named it: its id, where its folder and bundle are (either may be missing). */
export interface CaseRef {
  id: string;
  /** The cases folder it lives in (the folder's parent, or the bundle's). */
  casesDir: string;
  /** `<casesDir>/<id>` when that folder holds a case.json. */
  folder?: string;
  /** `<casesDir>/<id>.tar.gz` when it exists. */
  bundle?: string;
}

/** Most candidates an ambiguous prefix lists. */
const SHOWN_CANDIDATES = 10;

const isCaseFolder = (p: string): boolean => {
  try {
    return fs.statSync(path.join(p, 'case.json')).isFile();
  } catch {
    return false;
  }
};
const isDir = (p: string): boolean => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};
const isFile = (p: string): boolean => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

/** The case `id` of a cases folder, with whichever of its folder and bundle exist. */
export function refAt(casesDir: string, id: string): CaseRef {
  const folder = path.join(casesDir, id);
  const bundle = folder + BUNDLE;
  return {
    id,
    casesDir,
    ...(isCaseFolder(folder) ? { folder } : {}),
    ...(isFile(bundle) ? { bundle } : {}),
  };
}

/** Every case id in a cases folder: folders holding a case.json and `<id>.tar.gz` bundles. */
export function caseIds(casesDir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(casesDir);
  } catch {
    return [];
  }
  const ids = new Set<string>();
  for (const n of names) {
    const id = n.endsWith(BUNDLE) ? n.slice(0, -BUNDLE.length) : n;
    if (!CASE_ID.test(id)) continue;
    if (n.endsWith(BUNDLE) ? isFile(path.join(casesDir, n)) : isCaseFolder(path.join(casesDir, n)))
      ids.add(id);
  }
  return [...ids].sort();
}

/**
 * The one resolver of a case argument, for every command that takes one: a case folder or a
 * bundle path (as given, from the cwd), else an id or a unique prefix of one in the cases folder
 * (`--cases-dir`, CIRT_CASES_DIR, ./cases). An ambiguous prefix is bad input listing the
 * candidates; nothing found says where it looked and how to list what is there.
 */
export function resolveCase(ref: string, env: AppEnv): CaseRef {
  const given = path.resolve(env.cwd, ref);
  // A path that exists is taken as given (a damaged folder without case.json too: readers say what is wrong).
  if (isDir(given)) return { ...refAt(path.dirname(given), path.basename(given)), folder: given };
  if (isFile(given)) {
    const base = path.basename(given);
    const id = base.endsWith(BUNDLE) ? base.slice(0, -BUNDLE.length) : base;
    return { ...refAt(path.dirname(given), id), bundle: given };
  }
  const casesDir = casesDirOf(env);
  const list = `\`cirt cases --cases-dir ${safeText(casesDir)}\``;
  const id = ref.endsWith(BUNDLE) ? ref.slice(0, -BUNDLE.length) : ref;
  if (!CASE_ID.test(id)) {
    throw new UserError(`"${safeText(ref)}" is not a case folder, bundle or case id`, {
      hint: `Pass a case id (or a unique start of one) from ${list}, a case folder or a .tar.gz bundle.`,
    });
  }
  const ids = caseIds(casesDir);
  if (ids.includes(id)) return refAt(casesDir, id);
  const matches = ids.filter((x) => x.startsWith(id));
  if (matches.length === 1) return refAt(casesDir, matches[0]);
  if (matches.length > 1) {
    const shown = matches.slice(0, SHOWN_CANDIDATES).map((m) => `  ${m}`);
    const more =
      matches.length > SHOWN_CANDIDATES ? [`  … ${matches.length - SHOWN_CANDIDATES} more`] : [];
    throw new UserError(
      `"${safeText(ref)}" matches ${matches.length} cases in ${safeText(casesDir)}:\n${[...shown, ...more].join('\n')}`,
      { hint: 'Give more of the id, so that it names one case.' },
    );
  }
  throw new UserError(`No case "${safeText(ref)}" in ${safeText(casesDir)}`, {
    hint: `List the cases with ${list}, or point --cases-dir / CIRT_CASES_DIR at the folder holding it.`,
  });
}

/** The path a reader opens: the folder when there is one (or `prefer: 'bundle'` and a bundle exists). */
export function readablePath(r: CaseRef, prefer: 'folder' | 'bundle' = 'folder'): string {
  const p = prefer === 'bundle' ? (r.bundle ?? r.folder) : (r.folder ?? r.bundle);
  // resolveCase only returns a ref with one of the two.
  return p as string;
}

/** The case folder, for commands that write to a case (release, seal): a bundle alone will not do. */
export function caseFolder(r: CaseRef, command: string): string {
  if (r.folder) return r.folder;
  throw new UserError(
    `Case ${r.id} has only its sealed bundle (${safeText(r.bundle ?? '')}): ${command} needs the case folder`,
    {
      hint: `Run ${command} where the case folder is (--cases-dir), or extract the bundle there with \`tar -xzf ${safeText(path.basename(r.bundle ?? ''))}\`.`,
    },
  );
}
