import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What a lock file holds (JSON), so whoever is refused can see who holds it. */
export interface LockInfo {
  pid: number;
  host: string;
  startedAt: string;
  /** The cirt command line that took it, e.g. `cirt run contain`. */
  command: string;
  /** Unique per acquisition: release and take-over only ever remove the lock they read. */
  token: string;
  /** What the lock is about (case id, case folder, container): for the refusal message. */
  [extra: string]: unknown;
}

export type LockResult =
  | { ok: true; lock: HeldLock; tookOver?: LockInfo }
  | { ok: false; holder: LockInfo | undefined; file: string };

/** Locks this process holds: removed when it exits, whatever way it exits. */
const held = new Set<HeldLock>();
let exitHook = false;

/** A lock this process holds; `release()` removes its file if it is still ours. */
export class HeldLock {
  private released = false;
  /** The stale lock this one replaced (its holder died without removing it), for the custody log. */
  tookOver?: LockInfo;

  constructor(
    readonly file: string,
    readonly info: LockInfo,
    /** Remove the lock's folder when it is left empty (`<cases dir>/.locks`, so a cases dir holds only cases). */
    private readonly tidy = false,
  ) {
    held.add(this);
    if (!exitHook) {
      exitHook = true;
      // 'exit' also runs after process.exit() (the second Ctrl-C) and after an uncaught error; only
      // SIGKILL or a power cut leaves the file, and then the dead pid makes it stale.
      process.on('exit', () => {
        for (const l of [...held]) l.release();
      });
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    // Only our own lock: if someone removed it by hand and another run took it, leave theirs alone.
    if (readLock(this.file)?.token === this.info.token) removeQuietly(this.file);
    if (this.tidy) {
      try {
        // Fails (ENOTEMPTY) while any other lock lives there; a taker that loses the folder re-creates it.
        fs.rmdirSync(path.dirname(this.file));
      } catch {
        // Not empty, or gone.
      }
    }
  }
}

/** The lock file's content, or undefined when it is missing or not a lock (being written, damaged). */
export function readLock(file: string): LockInfo | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const v = JSON.parse(text) as LockInfo;
    return typeof v === 'object' &&
      v !== null &&
      typeof v.pid === 'number' &&
      typeof v.host === 'string'
      ? v
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a lock's holder is gone: only decidable on its own host (a pid means nothing elsewhere).
 * A live pid that started after the lock was taken is a re-used pid: the holder is gone too.
 */
export function isStale(info: LockInfo, host = os.hostname()): boolean {
  if (info.host !== host) return false;
  if (!Number.isInteger(info.pid) || info.pid <= 0) return true;
  try {
    process.kill(info.pid, 0);
  } catch (err) {
    // EPERM: alive, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  const started = processStart(info.pid);
  const took = Date.parse(info.startedAt);
  return started !== undefined && Number.isFinite(took) && started > took + 2000;
}

/** When a process started (ms since epoch), from /proc on Linux; undefined elsewhere. */
function processStart(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, clock ticks since boot) comes after the ")" that ends the command name.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(btime)) return undefined;
    // USER_HZ is 100 on every Linux ABI Node runs on.
    return btime * 1000 + (ticks / 100) * 1000;
  } catch {
    return undefined;
  }
}

/**
 * Takes `file` exclusively across processes. The lock is written to a temporary file and linked
 * to its name (link fails with EEXIST like O_EXCL, and a reader never sees a half-written lock).
 * A stale lock (its pid is dead on this host) is taken over; two processes that both find it stale
 * cannot both win, see `breakStale`.
 */
export function tryLock(
  file: string,
  what: { command: string; [extra: string]: unknown },
  opts: { tidy?: boolean } = {},
): LockResult {
  const info: LockInfo = {
    ...what,
    pid: process.pid,
    host: os.hostname(),
    startedAt: new Date().toISOString(),
    command: what.command,
    token: randomBytes(12).toString('hex'),
  };
  let tookOver: LockInfo | undefined;
  // Bounded: each round either wins, is refused by a live holder, or removed a stale lock.
  for (let round = 0; round < 5; round++) {
    if (createExclusive(file, `${JSON.stringify(info)}\n`)) {
      const lock = new HeldLock(file, info, opts.tidy);
      if (tookOver) lock.tookOver = tookOver;
      return { ok: true, lock, ...(tookOver ? { tookOver } : {}) };
    }
    const holder = readLock(file);
    if (holder === undefined && fs.existsSync(file) && !oldEnough(file))
      return { ok: false, holder: undefined, file };
    if (holder !== undefined && !isStale(holder)) return { ok: false, holder, file };
    if (breakStale(file, holder)) tookOver = holder;
  }
  return { ok: false, holder: readLock(file), file };
}

/** A lock file that is not valid JSON: being written by a cirt without link(2), or debris (then give it a while). */
function oldEnough(file: string): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs > 10_000;
  } catch {
    return true;
  }
}

/** Creates `file` with `text` only if it does not exist; false when it does. */
function createExclusive(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // The folder does not exist yet, or another process just removed it as empty.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(tmp, text, { mode: 0o644, flag: 'wx' });
  }
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A filesystem without hard links: plain O_EXCL (a reader may briefly see it empty; see oldEnough).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP') {
      try {
        fs.writeFileSync(file, text, { mode: 0o644, flag: 'wx' });
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      }
    }
    throw err;
  } finally {
    removeQuietly(tmp);
  }
}

/**
 * Removes a stale lock, holding `<file>.break` (taken exclusively) while it re-reads and removes
 * it: of two processes that both found it stale, the second re-reads the winner's fresh lock and
 * leaves it. A `.break` file is held for microseconds; one older than 10 s was left by a crash.
 */
function breakStale(file: string, seen: LockInfo | undefined): boolean {
  const breaker = `${file}.break`;
  if (
    !createExclusive(
      breaker,
      `${JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() })}\n`,
    )
  ) {
    if (oldEnough(breaker)) removeQuietly(breaker);
    return false;
  }
  try {
    const now = readLock(file);
    const same =
      now === undefined
        ? seen === undefined
        : seen !== undefined && now.token === seen.token && now.pid === seen.pid;
    if (!same || (now !== undefined && !isStale(now))) return false;
    removeQuietly(file);
    return true;
  } finally {
    removeQuietly(breaker);
  }
}

function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // Already gone.
  }
}

/** "pid 123 on host h since 2026-…, running `cirt run contain`": who holds a lock, for messages. */
export function describeHolder(h: LockInfo | undefined): string {
  if (!h) return 'a cirt process that is still writing its lock';
  return `pid ${h.pid} on host ${h.host} since ${h.startedAt} (${h.command})`;
}
