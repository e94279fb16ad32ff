/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Base class: an error we expected and can explain. */
export class CirtError extends Error {
  readonly exitCode: number;
  /** What the user can do next. */
  readonly hint?: string;

  constructor(message: string, opts: { exitCode: number; hint?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode;
    this.hint = opts.hint;
  }
}

/** The user can fix this (bad input, unknown container, engine unreachable): exit 2. */
export class UserError extends CirtError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: EXIT.usage, ...opts });
  }
}

/** A step failed or evidence did not verify: exit 1. */
export class FailureError extends CirtError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: EXIT.failed, ...opts });
  }
}

/** The run was interrupted (Ctrl-C / abort signal): exit 130. */
export class InterruptedError extends CirtError {
  constructor(message = 'interrupted', opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: EXIT.interrupted, ...opts });
  }
}

/** A precondition of a step does not hold at run time (container not running, …). */
export class PreconditionError extends FailureError {}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** dockerode errors carry the HTTP status and the engine's JSON message. */
export function engineStatus(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown };
  return typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown }; reason?: unknown; message?: unknown };
  if (e?.json && typeof e.json.message === 'string') return e.json.message;
  return errorMessage(err);
}

/** The hint of an expected error as a suffix (` — what to do next`), or nothing. */
export function hintSuffix(err: unknown, sep = ' — '): string {
  return err instanceof CirtError && err.hint ? `${sep}${err.hint}` : '';
}

/**
 * The target container no longer exists (removed during the run): not a missing file, not a
 * refused request. The step fails (exit 1) and the case lists what was not collected.
 */
export class TargetGoneError extends FailureError {
  constructor(container: string, opts: { what?: string; cause?: unknown } = {}) {
    super(`container ${container} was removed during the run${opts.what ? `: ${opts.what}` : ''}`, {
      hint: 'What was collected before is kept and can be sealed (`cirt seal`); the rest cannot be collected from the engine any more.',
      cause: opts.cause,
    });
  }
}

/** The engine's answer for a container id it does not know (HTTP 404 "No such container: …"). */
export function isNoSuchContainer(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TargetGoneError) return true;
    if (engineStatus(e) === 404 && /no such container/i.test(engineMessage(e))) return true;
  }
  return false;
}
