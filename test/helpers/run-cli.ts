import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs the real CLI entry (`main`) in-process with captured output and no TTY (nobody can approve). */
export async function runCli(
  argv: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await main(argv, {
    out,
    err,
    interactive: false,
    env: opts.env ?? process.env,
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString() };
}
