import { Command, Option } from 'commander';
import { tuiCommand } from './commands/tui.js';
import type { CommandIO, GlobalOptions } from './io.js';

/** Global options that take a value, as program.ts declares them (a unit test keeps the two in step). */
const GLOBAL_WITH_VALUE = new Set(['-H', '--host', '--context', '--config', '--cases-dir']);

/**
 * True when argv opens the TUI: nothing but global options, optionally followed by `tui` and its
 * own options. Those invocations skip loading every other command, so the first frame comes sooner.
 */
export function isTuiInvocation(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (GLOBAL_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (/^(--host|--context|--config|--cases-dir)=/.test(a)) continue;
    return a === 'tui' && !argv.slice(i + 1).some((x) => x === '-h' || x === '--help');
  }
  return true;
}

/** The root command with the global options every invocation shares (program.ts builds on it). */
export function rootCommand(io: CommandIO): Command {
  return new Command('cirt')
    .addOption(
      new Option(
        '-H, --host <address>',
        'Docker engine address (overrides DOCKER_HOST), e.g. unix:///var/run/docker.sock',
      ),
    )
    .addOption(
      new Option(
        '--context <name>',
        "a docker CLI context or an engine of cirt's config (overrides DOCKER_HOST, DOCKER_CONTEXT and the current context; not with --host)",
      ),
    )
    .addOption(
      new Option(
        '--config <file>',
        "cirt's config file listing more engines (default CIRT_CONFIG, else ~/.config/cirt/config.yaml)",
      ),
    )
    .addOption(
      new Option('--cases-dir <dir>', 'where cases are kept (default ./cases, or CIRT_CASES_DIR)'),
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .showHelpAfterError('(run with --help for usage)');
}

/** Adds `tui`, the default command. */
export function addTuiCommand(
  program: Command,
  io: CommandIO,
  state: { code: number; signal?: AbortSignal },
): void {
  program
    .command('tui', { isDefault: true })
    .description('the interactive terminal UI (also what `cirt` alone opens)')
    .option(
      '--case <id>',
      'open this case (id under the cases folder, or a folder path) on the Case screen',
    )
    .action(async (o: { case?: string }) => {
      state.code = await tuiCommand(
        { ...program.opts<GlobalOptions>(), case: o.case, signal: state.signal },
        io,
      );
    });
}

/** The command tree for a TUI invocation: the global options and `tui` (the default). */
export function buildTuiProgram(
  io: CommandIO,
  state: { code: number; signal?: AbortSignal },
): Command {
  const program = rootCommand(io);
  addTuiCommand(program, io, state);
  return program;
}
