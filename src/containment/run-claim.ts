import fs from 'node:fs';
import path from 'node:path';
import { claimNewCase, lockCase } from '../evidence/case-lock.js';
import type { HeldLock, LockInfo } from '../evidence/lock-file.js';
import { lockContainer, registerCase } from './container-lock.js';

export interface RunClaim {
  caseId: string;
  /** Releases both locks (idempotent; also done at process exit). */
  release(): void;
  /** Notes the case in the host-wide registry of cases on this container (once the case exists). */
  register(): void;
  /** Stale locks (of runs that died) this claim replaced: `{ lock: file, holder }`, for custody. */
  tookOver: { lock: string; holder: LockInfo }[];
}

/**
 * Everything a writing run must hold before it touches the case or the container: the case (a new
 * id nobody else has, or the lock of the one given with --case), then the container. If the
 * container is taken, the case lock is dropped and a folder made just now (still empty) removed.
 */
export function claimRun(o: {
  casesDir: string;
  /** --case: continue or create exactly this case. */
  caseId?: string;
  defaultId: string;
  target: { id: string; name: string };
  engine: string;
  command: string;
  env: NodeJS.ProcessEnv;
}): RunClaim {
  let caseLock: HeldLock;
  let caseId: string;
  let made = false;
  if (o.caseId !== undefined) {
    caseId = o.caseId;
    caseLock = lockCase(o.casesDir, caseId, o.command);
  } else {
    ({ id: caseId, lock: caseLock } = claimNewCase(o.casesDir, o.defaultId, o.command));
    made = true;
  }
  const caseDir = path.resolve(o.casesDir, caseId);
  let containerLock: HeldLock;
  try {
    containerLock = lockContainer(o.env, {
      caseId,
      caseDir,
      container: o.target,
      engine: o.engine,
      command: o.command,
    });
  } catch (err) {
    if (made) {
      try {
        // rmdir removes only an empty folder: never evidence.
        fs.rmdirSync(caseDir);
      } catch {
        // Not empty or gone: leave it.
      }
    }
    caseLock.release();
    throw err;
  }
  return {
    caseId,
    release() {
      containerLock.release();
      caseLock.release();
    },
    register: () => registerCase(o.env, o.engine, o.target.id, caseId, caseDir),
    tookOver: [caseLock, containerLock].flatMap((l) =>
      l.tookOver ? [{ lock: l.file, holder: l.tookOver }] : [],
    ),
  };
}
