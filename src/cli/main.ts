#!/usr/bin/env node
import { CirtError, EXIT } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { CommanderError } from 'commander';
import { processIO, type CommandIO } from './io.js';
import { isTuiInvocation } from './tui-program.js';

/** The one place errors become exit codes. */
export async function main(argv: string[], io: CommandIO = processIO(), signal?: AbortSignal): Promise<number> {
  const state: { code: number; signal?: AbortSignal } = { code: EXIT.ok, signal };
  try {
    // The TUI loads only what its first frame needs; every other invocation gets the full tree.
    const program = isTuiInvocation(argv)
      ? (await import('./tui-program.js')).buildTuiProgram(io, state)
      : (await import('./program.js')).buildProgram(io, state);
    await program.parseAsync(argv, { from: 'user' });
    return state.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; usage errors are exit 2.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CirtError) {
      io.err.write(`cirt: ${safeText(err.message).replace(/\\n/g, '\n')}\n`);
      if (err.hint) io.err.write(`  → ${safeText(err.hint)}\n`);
      return err.exitCode;
    }
    const e = err as Error;
    io.err.write(`cirt: unexpected error (a bug in cirt): ${safeText(e?.message ?? String(err))}\n${e?.stack ?? ''}\n`);
    io.err.write('  → Please report this with the command you ran; evidence already written is kept in the case folder.\n');
    return EXIT.failed;
  }
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/cirt')) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write('\ncirt: interrupting — finishing the custody record (Ctrl-C again to force)\n');
    controller.abort(new Error('interrupted by the user (SIGINT)'));
  });
  process.on('SIGTERM', () => controller.abort(new Error('terminated (SIGTERM)')));
  let settled = false;
  // Node exits 0 when nothing is left to wait for, even with the command unfinished: never let that pass as success.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    process.stderr.write('cirt: stopped before the command finished (a bug in cirt); the case folder keeps what was written\n');
    process.exitCode = controller.signal.aborted ? EXIT.interrupted : EXIT.failed;
  });
  main(process.argv.slice(2), processIO(), controller.signal).then(
    (code) => {
      settled = true;
      process.exitCode = controller.signal.aborted && code === EXIT.ok ? EXIT.interrupted : code;
    },
    (err) => {
      settled = true;
      process.stderr.write(`cirt: ${String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
