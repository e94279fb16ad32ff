import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { describeHolder, tryLock, type HeldLock } from './lock-file.js';

/**
 * Case locks live beside the case folders, never inside one (a sealed folder must not change, and
 * SHA256SUMS lists exactly the evidence): `<cases dir>/.locks/<case id>.lock`. A case id starts
 * with a letter or digit, so `.locks` is never a case.
 */
export const CASE_LOCKS_DIR = '.locks';

export function caseLockFile(casesDir: string, id: string): string {
  return path.join(realDir(casesDir), CASE_LOCKS_DIR, `${id}.lock`);
}

/** One cases dir reached through two paths (a symlink) must give one lock file. */
function realDir(dir: string): string {
  try {
    return fs.realpathSync(path.resolve(dir));
  } catch {
    return path.resolve(dir);
  }
}

/**
 * Takes the exclusive lock every writer of a case holds (run, seal, release): two writers would
 * append to one custody.jsonl from two in-memory chains. Refused: exit 2 naming the holder.
 */
export function lockCase(casesDir: string, id: string, command: string): HeldLock {
  const file = caseLockFile(casesDir, id);
  const r = tryLock(
    file,
    { command, caseId: id, caseDir: path.resolve(casesDir, id) },
    { tidy: true },
  );
  if (r.ok) return r.lock;
  throw new UserError(`Case ${id} is being written by another cirt: ${describeHolder(r.holder)}`, {
    hint:
      `Wait for that command to finish (${r.holder?.command ?? 'cirt'}), or use another --case id. ` +
      `If that process is gone and it ran on another host, remove ${file} by hand (see docs/locks.md).`,
  });
}

/**
 * Creates a new case folder under an id nobody else has: mkdir without `recursive` fails with
 * EEXIST, atomically, so two runs in the same second cannot share `<utc-second>-<name>`; the
 * second gets `-2`, the third `-3`. The case lock is taken before the folder is made.
 */
export function claimNewCase(
  casesDir: string,
  baseId: string,
  command: string,
): { id: string; lock: HeldLock } {
  fs.mkdirSync(path.resolve(casesDir), { recursive: true });
  for (let n = 1; n < 1000; n++) {
    const id = n === 1 ? baseId : `${baseId.slice(0, 120)}-${n}`;
    const root = path.resolve(casesDir, id);
    if (fs.existsSync(root)) continue;
    let lock: HeldLock;
    try {
      lock = lockCase(casesDir, id, command);
    } catch (err) {
      if (err instanceof UserError) continue;
      throw err;
    }
    try {
      fs.mkdirSync(root, { mode: 0o755 });
      return { id, lock };
    } catch (err) {
      lock.release();
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new UserError(
    `No free case id from ${baseId} in ${casesDir} (tried ${baseId} to ${baseId}-999)`,
    { hint: 'Pass --case <id>.' },
  );
}
