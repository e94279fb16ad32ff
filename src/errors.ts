/**
 * Exit codes shared by every command. A bug in cirt exits 1 like a failed step: scripts written
 * against 0/1/2/130 keep working, and the message, the `bug` flag of the event and the custody
 * record (with the stack) tell the two apart.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, bug: 1, interrupted: 130 } as const;

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

/**
 * The step has nothing to act on in the target's state, and that is not a failure: an exited
 * container has no processes to freeze, list or read sockets of. The step ends `not-applicable`
 * (docs/statuses.md), never `failed`, and never `ok` either.
 */
export class NotApplicableError extends PreconditionError {}

/** A programming error in cirt itself: not the user's doing, not a failed step. */
export class BugError extends CirtError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(message, {
      exitCode: EXIT.bug,
      hint: "This is a bug in cirt: please report it with the case's custody.jsonl (it holds the stack).",
      ...opts,
    });
  }
}

/**
 * Whether an error thrown by a step is a bug in cirt rather than a failure it can explain: our own
 * BugError, or what the language throws at a programming mistake (calling undefined, reading a
 * property of undefined, an invalid length…). Errors we raise on purpose (CirtError and the
 * runtime's typed errors), Node's system errors (they carry a `code`: ENOSPC, ECONNRESET…) and plain
 * `Error`s (used for expected failures such as a broken stream) are not.
 */
export function isBug(err: unknown): boolean {
  if (err instanceof BugError) return true;
  if (err instanceof CirtError) return false;
  if (typeof (err as { code?: unknown })?.code === 'string') return false;
  return (
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof RangeError ||
    err instanceof EvalError
  );
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
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
