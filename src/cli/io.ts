import type { Writable } from 'node:stream';
import { casesDirOf as appCasesDir, type AppEnv } from '../app/env.js';

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
  // `cirt findings | head`: the reader left, so the rest of the output has nowhere to go. End quietly,
  // as Unix tools do, rather than crash on an unhandled EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
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

/** What the app layer needs of a command's options and IO. */
export function appEnv(g: GlobalOptions, io: CommandIO): AppEnv {
  return { cwd: io.cwd, env: io.env, host: g.host, casesDir: g.casesDir };
}

/** The cases folder, absolute: a relative --cases-dir or CIRT_CASES_DIR is taken from the command's cwd. */
export function casesDirOf(g: GlobalOptions, io: CommandIO): string {
  return appCasesDir(appEnv(g, io));
}
