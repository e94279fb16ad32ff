import path from 'node:path';
import { FailureError } from '../errors.js';

/** errno codes that mean "the disk refused the bytes", as opposed to a bug or bad input. */
const WRITE_ERRNOS: Record<string, string> = {
  ENOSPC: 'is full',
  EDQUOT: 'is over its disk quota',
  EIO: 'gave an I/O error',
  EROFS: 'is read-only',
  EFBIG: 'refuses a file this large',
  ENOMEM: 'ran out of memory (tmpfs)',
};

/** The errno of a failed write, if it is one the disk gives (ENOSPC, EIO, …). */
export function writeErrno(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string' && code in WRITE_ERRNOS) return code;
  if (err instanceof DiskWriteError) return err.errno;
  return undefined;
}

/** A file in the case folder could not be written: a step failure (exit 1), never a crash. */
export class DiskWriteError extends FailureError {
  constructor(
    message: string,
    readonly errno: string,
    /** The file relative to the cases folder (e.g. `CASE/fs/diff.tar`). */
    readonly file: string,
    opts: { hint?: string; cause?: unknown },
  ) {
    super(message, opts);
  }
}

/**
 * Names what failed in words a responder can act on: "the cases folder /x is full (ENOSPC) while
 * writing fs/diff.tar", with what to do next. Errors that are not disk errors pass unchanged.
 */
export function describeWriteError(
  err: unknown,
  where: { root: string; caseId: string; rel: string; step?: string },
): Error {
  if (err instanceof DiskWriteError) return err;
  const errno = writeErrno(err);
  if (!errno) return err instanceof Error ? err : new Error(String(err));
  const casesDir = path.dirname(where.root);
  const by = where.step ? ` (step ${where.step})` : '';
  return new DiskWriteError(
    `the cases folder ${casesDir} ${WRITE_ERRNOS[errno]} (${errno}) while writing ${where.rel} of case ${where.caseId}${by}`,
    errno,
    `${where.caseId}/${where.rel}`,
    {
      hint: `What was written is kept and listed as incomplete. Free space on that filesystem (or fix the disk), then run \`cirt seal --case ${where.caseId}\`.`,
      cause: err,
    },
  );
}
