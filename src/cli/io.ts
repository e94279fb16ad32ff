import path from 'node:path';
import type { Writable } from 'node:stream';

/** Where a command writes; tests pass buffers, the binary passes process streams. */
export interface CommandIO {
  out: Writable;
  err: Writable;
  /** True when a human can answer prompts. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CommandIO {
  // `cirt run … --json | head -1`: the reader left, so the rest of the output has nowhere to go. The
  // command still finishes (a run its custody, case.json and seal; exiting here would stop it
  // mid-run, with exit 0): later writes are dropped, the exit code stays the command's own.
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
  return {
    out: process.stdout,
    err: process.stderr,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

export function println(w: Writable, line = ''): void {
  w.write(`${line}\n`);
}

/** Global options every engine-facing command accepts. */
export interface GlobalOptions {
  host?: string;
  casesDir?: string;
}

/** The cases folder, absolute: a relative --cases-dir or CIRT_CASES_DIR is taken from the command's cwd. */
export function casesDirOf(g: GlobalOptions, io: CommandIO): string {
  return path.resolve(io.cwd, g.casesDir ?? io.env.CIRT_CASES_DIR ?? 'cases');
}
