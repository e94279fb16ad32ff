#!/usr/bin/env node
import { CirtError, EXIT } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { CommanderError } from 'commander';
import { processIO, terminalIO, TerminalWriter, type CommandIO } from './io.js';
import { isTuiInvocation } from './tui-program.js';
import { signalEnd } from './signal-end.js';

/**
 * The one place errors become exit codes, and the one path to the terminal: every command and every
 * message, errors included, writes through terminalIO (control characters neutralised).
 */
export async function main(
  argv: string[],
  given: CommandIO = processIO(),
  signal?: AbortSignal,
): Promise<number> {
  const io = terminalIO(given);
  const code = await dispatch(argv, io, signal);
  if (io.out instanceof TerminalWriter) {
    io.out.flushHeld();
    if (io.out.replaced) {
      io.err.write(
        `cirt: note: ${io.out.replaced} control character(s) in the output were shown as \\u escapes because stdout is a terminal; redirect it to a file or a pipe for the exact bytes\n`,
      );
    }
  }
  return code;
}

async function dispatch(argv: string[], io: CommandIO, signal?: AbortSignal): Promise<number> {
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
    return reportError(err, io);
  }
}

/** An error nobody expected: a bug in cirt. Its message and stack are shown safe (they may quote input). */
export function reportError(err: unknown, io: CommandIO): number {
  const e = err as Error;
  // A stack's first line repeats the message, which may quote input (JSON.parse does): each line is made safe.
  const stack = (e?.stack ?? '')
    .split('\n')
    .map((l) => safeText(l))
    .join('\n');
  io.err.write(
    `cirt: unexpected error (a bug in cirt): ${safeText(e?.message ?? String(err))}\n${stack}\n`,
  );
  io.err.write(
    '  → Please report this with the command you ran; evidence already written is kept in the case folder.\n',
  );
  return EXIT.failed;
}

const isEntry = process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry || process.argv[1]?.endsWith('/cirt')) {
  const controller = new AbortController();
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write(
      '\ncirt: interrupting — finishing the custody record (Ctrl-C again to force)\n',
    );
    controller.abort(new Error('interrupted by the user (SIGINT)'));
  });
  process.on('SIGTERM', () => controller.abort(new Error('terminated (SIGTERM)')));
  let settled = false;
  // Last line of defence, never the plan: every write failure is a step failure, so this should never fire.
  // If it does, say so plainly (not Node's trace alone), stop the run so it can still end, and exit 1.
  let guardFired = false;
  const lastResort =
    (kind: string) =>
    (err: unknown): void => {
      const e = err as Error;
      process.stderr.write(
        `cirt: ${kind} (a bug in cirt): ${safeText(e?.message ?? String(err))}\n${safeText(e?.stack ?? '').replace(/\\n/g, '\n')}\n` +
          '  → The case folder keeps what was written; run `cirt seal --case <id>` to seal it, and please report this.\n',
      );
      process.exitCode = EXIT.failed;
      guardFired = true;
      if (!controller.signal.aborted)
        controller.abort(new Error(`${kind}: ${e?.message ?? String(err)}`));
      // After an uncaught exception nothing is certain: a few seconds to record the interruption, then out.
      if (kind === 'uncaught exception') setTimeout(() => process.exit(EXIT.failed), 5_000).unref();
    };
  process.on('unhandledRejection', lastResort('unhandled promise rejection'));
  process.on('uncaughtException', lastResort('uncaught exception'));
  // Node exits 0 when nothing is left to wait for, even with the command unfinished: never let that pass as success.
  process.on('beforeExit', () => {
    if (settled) return;
    settled = true;
    process.stderr.write(
      'cirt: stopped before the command finished (a bug in cirt); the case folder keeps what was written\n',
    );
    process.exitCode = controller.signal.aborted && !guardFired ? EXIT.interrupted : EXIT.failed;
  });
  main(process.argv.slice(2), processIO(), controller.signal).then(
    (code) => {
      settled = true;
      if (guardFired) return;
      process.exitCode =
        controller.signal.aborted && code === EXIT.ok && !signalEnd.clean ? EXIT.interrupted : code;
    },
    (err) => {
      settled = true;
      process.stderr.write(`cirt: ${safeText(String(err))}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
