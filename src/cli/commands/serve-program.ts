import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import type { CommandIO, GlobalOptions } from '../io.js';

/** `cirt serve`, `cirt pending`, `cirt approve`, `cirt reject` (docs/serve.md). */
export function addServeCommands(
  program: Command,
  io: CommandIO,
  state: { code: number; signal?: AbortSignal },
  globals: () => GlobalOptions,
): void {
  program
    .command('serve')
    .description(
      'run as a service: take Falco alerts (HTTP, or JSON lines) and answer them with playbooks',
    )
    .option('--config <file>', 'the service config (YAML; docs/serve.md); required')
    .option('--alerts <source>', 'also read Falco JSON lines from - (stdin), a file or a FIFO')
    .option('--check', "check the config (and its rules' playbooks) and exit")
    .action(async (o: { config?: string; alerts?: string; check?: boolean }) => {
      // `--config` is also cirt's global option (the engines file): written after `serve`, commander
      // gives it to the program, so the service's file is whichever of the two was given.
      const config = o.config ?? globals().config;
      if (!config)
        throw new UserError('cirt serve needs its config file', {
          hint: 'Use cirt serve --config serve.yaml (docs/serve.md).',
        });
      state.code = await (
        await import('./serve.js')
      ).serveCommand({ ...globals(), ...o, config, signal: state.signal }, io);
    });
  program
    .command('pending')
    .description('list the steps the running service waits on a human for')
    .option('--config <file>', 'the config the service runs with (else CIRT_SERVE_CONFIG)')
    .option('--json', 'machine-readable list')
    .option('--tui', 'the Pending screen: approve or reject with a key')
    .action(async (o: { config?: string; json?: boolean; tui?: boolean }) => {
      state.code = await (
        await import('./pending.js')
      ).pendingCommand({ ...o, config: o.config ?? globals().config }, io);
    });
  for (const decision of ['approve', 'reject'] as const) {
    program
      .command(decision)
      .description(
        `${decision} a step the running service waits on (recorded in the case's custody with who and when)`,
      )
      .argument('<id>', 'the id `cirt pending` shows')
      .option('--config <file>', 'the config the service runs with (else CIRT_SERVE_CONFIG)')
      .option('--by <name>', 'who answers (default: user@host)')
      .action(async (id: string, o: { config?: string; by?: string }) => {
        state.code = await (
          await import('./pending.js')
        ).decideCommand(decision, id, { ...o, config: o.config ?? globals().config }, io);
      });
  }
}
