import { Command, CommanderError, Option } from 'commander';
import { toolVersion } from '../util/pkg.js';
import { actionsCommand } from './commands/actions.js';
import { runCommand } from './commands/run.js';
import { validateCommand } from './commands/validate.js';
import type { CommandIO, GlobalOptions } from './io.js';

/** Result of one CLI invocation: the exit code. */
export type Exit = number;

/**
 * Builds the command tree. Each action stores its exit code in `state.code`;
 * commands are plain async functions so tests call them directly too.
 */
export function buildProgram(io: CommandIO, state: { code: Exit; signal?: AbortSignal }): Command {
  const program = new Command('cirt')
    .description('Container incident response: contain a compromised container, collect signed evidence, build a timeline.')
    .version(toolVersion())
    .addOption(new Option('-H, --host <address>', 'Docker engine address (overrides DOCKER_HOST), e.g. unix:///var/run/docker.sock'))
    .addOption(new Option('--cases-dir <dir>', 'where cases are kept (default ./cases, or CIRT_CASES_DIR)'))
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out.write(s), writeErr: (s) => io.err.write(s) })
    .showHelpAfterError('(run with --help for usage)');
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('run')
    .description('run a playbook against a container')
    .argument('<playbook>', 'playbook name (e.g. contain) or path to a .yaml file')
    .option('-t, --target <container>', 'container name, id or unique id prefix')
    .option('--alert <file>', 'a Falco JSON alert (file, or - for stdin) naming the container; kept as evidence')
    .option('--case <id>', 'case id (default: <utc-time>-<container-name>)')
    .option('--title <text>', 'case title / reason')
    .option('--ticket <ref>', 'ticket reference recorded in case.json')
    .option('-y, --yes', 'approve every step that asks for confirmation (scripts)')
    .option('--dry-run', 'print the plan and touch nothing')
    .option('--json', 'print NDJSON events instead of text')
    .option('--sign-key <pem>', 'Ed25519 private key (PEM) to sign the seal with')
    .action(async (playbook: string, o: { target?: string; alert?: string; case?: string; title?: string; ticket?: string; yes?: boolean; dryRun?: boolean; json?: boolean; signKey?: string }) => {
      const r = await runCommand({ ...globals(), playbook, target: o.target, alert: o.alert, caseId: o.case, title: o.title, ticket: o.ticket, yes: o.yes, dryRun: o.dryRun, json: o.json, signKey: o.signKey, signal: state.signal }, io);
      state.code = r.exitCode;
    });

  program
    .command('validate')
    .description('check playbooks without running them (no engine needed)')
    .argument('<playbook...>', 'playbook names or paths')
    .option('--json', 'machine-readable result')
    .action(async (refs: string[], o: { json?: boolean }) => {
      state.code = await validateCommand(refs, o, io);
    });

  program
    .command('actions')
    .description('list every action with its params and an example')
    .option('--json', 'machine-readable list')
    .action(async (o: { json?: boolean }) => {
      state.code = await actionsCommand(o, io);
    });

  return program;
}

export { CommanderError };
