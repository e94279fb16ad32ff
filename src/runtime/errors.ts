import { CirtError, EXIT, errorMessage } from '../errors.js';

/**
 * How a runtime request failed, in cirt's terms: the object asked for does not exist (`not-found`),
 * the container itself is gone (`gone`), its state forbids the request (`conflict`), the runtime
 * answered with an error (`refused`), or it could not be reached at all (`unreachable`).
 */
export type RuntimeErrorKind = 'not-found' | 'gone' | 'conflict' | 'refused' | 'unreachable';

/** A runtime request that failed; `detail` is the runtime's own message, `status` its HTTP code if any. */
export class RuntimeError extends CirtError {
  readonly kind: RuntimeErrorKind;
  readonly detail: string;
  readonly status?: number;

  constructor(
    kind: RuntimeErrorKind,
    message: string,
    opts: { detail?: string; status?: number; hint?: string; cause?: unknown } = {},
  ) {
    // A container that is gone is the user's to know about (exit 2), as is an engine nobody can reach.
    super(message, {
      exitCode: kind === 'gone' || kind === 'unreachable' ? EXIT.usage : EXIT.failed,
      hint: opts.hint,
      cause: opts.cause,
    });
    this.kind = kind;
    this.detail = opts.detail ?? message;
    this.status = opts.status;
  }
}

/** The runtime's own words for an error (its JSON message), or the error's message. */
export function runtimeMessage(err: unknown): string {
  return err instanceof RuntimeError ? err.detail : errorMessage(err);
}

export function isKind(err: unknown, ...kinds: RuntimeErrorKind[]): err is RuntimeError {
  return err instanceof RuntimeError && kinds.includes(err.kind);
}
