import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { describeHolder, tryLock, type HeldLock } from '../evidence/lock-file.js';

/**
 * Where container locks live: one folder per host, so runs from different working directories or
 * cases dirs see each other. `CIRT_LOCK_DIR` wins; else /run/cirt/locks (root); else a folder of
 * this user under the temp dir (a user who cannot write /run cannot see root's runs' locks).
 */
export function lockDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CIRT_LOCK_DIR) return path.resolve(env.CIRT_LOCK_DIR);
  for (const dir of [
    '/run/cirt/locks',
    path.join(os.tmpdir(), `cirt-locks-${process.getuid?.() ?? 'user'}`),
  ]) {
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      fs.accessSync(dir, fs.constants.W_OK);
      return dir;
    } catch {
      // Not ours to write: try the next.
    }
  }
  throw new UserError('No folder for cirt lock files is writable (/run/cirt/locks, the temp dir)', {
    hint: 'Set CIRT_LOCK_DIR to a writable folder on this host.',
  });
}

/** A container is one engine's: the same id on two engines is two containers. */
function key(engineAddress: string, containerId: string): string {
  return `container-${containerId}-${createHash('sha256').update(canonicalAddress(engineAddress)).digest('hex').slice(0, 12)}`;
}

/** /var/run/docker.sock and /run/docker.sock are one engine when one is a link to the other. */
function canonicalAddress(address: string): string {
  if (!address.startsWith('unix://')) return address;
  try {
    return `unix://${fs.realpathSync(address.slice('unix://'.length))}`;
  } catch {
    return address;
  }
}

export function containerLockFile(
  env: NodeJS.ProcessEnv,
  engineAddress: string,
  containerId: string,
): string {
  return path.join(lockDir(env), `${key(engineAddress, containerId)}.lock`);
}

export interface ContainerClaim {
  caseId: string;
  caseDir: string;
  container: { id: string; name: string };
  engine: string;
  command: string;
}

/**
 * Takes the per-container lock a run (or release) holds while it handles the container: a second
 * containment run on it is refused, naming the case that holds it.
 */
export function lockContainer(env: NodeJS.ProcessEnv, c: ContainerClaim): HeldLock {
  const file = containerLockFile(env, c.engine, c.container.id);
  const r = tryLock(file, {
    command: c.command,
    caseId: c.caseId,
    caseDir: c.caseDir,
    engine: c.engine,
    container: c.container,
  });
  if (r.ok) return r.lock;
  const h = r.holder;
  const by =
    typeof h?.caseId === 'string'
      ? `case ${h.caseId}${typeof h.caseDir === 'string' ? ` (${h.caseDir})` : ''}`
      : 'another cirt';
  throw new UserError(
    `Container ${c.container.name} (${c.container.id.slice(0, 12)}) is being handled by ${by}: ${describeHolder(h)}; nothing was done for case ${c.caseId}`,
    {
      hint:
        `One run at a time per container: wait for it to finish, then look at that case (its containment holds for both). ` +
        `If that process is gone, remove ${file} by hand (see docs/locks.md).`,
    },
  );
}

/**
 * The host-wide record of which case folders handled a container, kept beside its lock, so that
 * `cirt release` of one case finds the other cases on the container even in another cases dir.
 * Only a pointer: what a case holds is read from its own custody log.
 */
function holdersDir(env: NodeJS.ProcessEnv, engineAddress: string, containerId: string): string {
  return path.join(lockDir(env), 'holders', key(engineAddress, containerId));
}

export function registerCase(
  env: NodeJS.ProcessEnv,
  engineAddress: string,
  containerId: string,
  caseId: string,
  caseDir: string,
): void {
  try {
    const dir = holdersDir(env, engineAddress, containerId);
    fs.mkdirSync(dir, { recursive: true });
    const name = `${createHash('sha256').update(path.resolve(caseDir)).digest('hex').slice(0, 16)}.json`;
    fs.writeFileSync(
      path.join(dir, name),
      `${JSON.stringify({ caseId, caseDir: path.resolve(caseDir), at: new Date().toISOString() })}\n`,
    );
  } catch {
    // Only a hint for release, which also scans the case's own cases dir.
  }
}

/** Case folders the registry names for this container (they may since have been moved or deleted). */
export function registeredCases(
  env: NodeJS.ProcessEnv,
  engineAddress: string,
  containerId: string,
): string[] {
  let dir: string;
  try {
    dir = holdersDir(env, engineAddress, containerId);
    return fs
      .readdirSync(dir)
      .filter((n) => n.endsWith('.json'))
      .map((n) => safeJson(path.join(dir, n)))
      .map((v) => (v && typeof v.caseDir === 'string' ? v.caseDir : undefined))
      .filter((v): v is string => v !== undefined);
  } catch {
    return [];
  }
}

function safeJson(file: string): { caseDir?: unknown } | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as { caseDir?: unknown };
  } catch {
    return undefined;
  }
}
