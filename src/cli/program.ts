import { Option, type Command } from 'commander';
import { toolVersion } from '../util/pkg.js';
import { actionsCommand } from './commands/actions.js';
import { casesCommand } from './commands/cases.js';
import { findingsCommand } from './commands/findings.js';
import { psCommand } from './commands/ps.js';
import { releaseCommand } from './commands/release.js';
import { runCommand } from './commands/run.js';
import { sealCommand } from './commands/seal.js';
import { TIMELINE_FORMATS, timelineCommand, type TimelineFormat } from './commands/timeline.js';
import { validateCommand } from './commands/validate.js';
import { verifyCommand } from './commands/verify.js';
import type { CommandIO, GlobalOptions } from './io.js';
import { addTuiCommand, rootCommand } from './tui-program.js';

/** Result of one CLI invocation: the exit code. */
export type Exit = number;

/**
 * Builds the command tree. Each action stores its exit code in `state.code`;
 * commands are plain async functions so tests call them directly too.
 */
export function buildProgram(io: CommandIO, state: { code: Exit; signal?: AbortSignal }): Command {
  const program = rootCommand(io)
    .description(
      'Container incident response: contain a compromised container, collect signed evidence, build a timeline.',
    )
    .version(toolVersion());
  const globals = (): GlobalOptions => program.opts<GlobalOptions>();

  program
    .command('run')
    .description('run a playbook against a container')
    .argument('<playbook>', 'playbook name (e.g. contain) or path to a .yaml file')
    .option('-t, --target <container>', 'container name, id or unique id prefix')
    .option(
      '--alert <file>',
      'a Falco JSON alert (file, or - for stdin; one run takes the first alert) naming the container by exact id or name; kept as evidence',
    )
    .option('--case <id>', 'case id (default: <utc-time>-<container-name>)')
    .option('--title <text>', 'case title / reason')
    .option('--ticket <ref>', 'ticket reference recorded in case.json')
    .option('-y, --yes', 'approve every step that asks for confirmation (scripts)')
    .option('--dry-run', 'print the plan and touch nothing')
    .option('--json', 'print NDJSON events instead of text')
    .option('--sign-key <pem>', 'Ed25519 private key (PEM) to sign the seal with')
    .action(
      async (
        playbook: string,
        o: {
          target?: string;
          alert?: string;
          case?: string;
          title?: string;
          ticket?: string;
          yes?: boolean;
          dryRun?: boolean;
          json?: boolean;
          signKey?: string;
        },
      ) => {
        const r = await runCommand(
          {
            ...globals(),
            playbook,
            target: o.target,
            alert: o.alert,
            caseId: o.case,
            title: o.title,
            ticket: o.ticket,
            yes: o.yes,
            dryRun: o.dryRun,
            json: o.json,
            signKey: o.signKey,
            signal: state.signal,
          },
          io,
        );
        state.code = r.exitCode;
      },
    );

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
    .description(
      'list every action with its params and an example, or show one (cirt actions NAME)',
    )
    .argument('[name]', 'one action, e.g. contain:pause (or its verb alone when unique: pause)')
    .option('--json', 'machine-readable list (one object for a named action)')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      state.code = await actionsCommand({ ...o, name }, io);
    });

  program
    .command('ps')
    .description('list containers, and which are quarantined by which case')
    .option('-a, --all', 'include stopped containers')
    .option('--json', 'machine-readable list (one JSON array)')
    .option('-q, --quiet', 'only the container ids, one a line')
    .option('--no-trunc', 'full ids, and no column cut')
    .option('--format <format>', 'table, or json (one JSON object a line)')
    .option('--wide', 'never cut a column')
    .action(
      async (o: {
        all?: boolean;
        json?: boolean;
        quiet?: boolean;
        trunc?: boolean;
        format?: string;
        wide?: boolean;
      }) => {
        const { trunc, ...rest } = o;
        state.code = await psCommand({ ...globals(), ...rest, noTrunc: trunc === false }, io);
      },
    );

  program
    .command('release')
    .description(
      "undo a case's containment (networks, pause, restart policy, limits) and record it",
    )
    .option('--case <case>', 'the case whose containment to undo (id, unique prefix or folder)')
    .option(
      '-t, --target <container>',
      'release every case in the cases folder that holds containment on this container',
    )
    .option('-y, --yes', 'release without asking (scripts; without a terminal it is required)')
    .option('--json', 'print the result as one JSON object per case')
    .action(async (o: { case?: string; target?: string; yes?: boolean; json?: boolean }) => {
      state.code = (
        await releaseCommand(
          { ...globals(), caseId: o.case, target: o.target, yes: o.yes, json: o.json },
          io,
        )
      ).exitCode;
    });

  program
    .command('cases')
    .description(
      'list the cases in the cases folder: target, status, seal, containment still in force, findings (offline)',
    )
    .option('--json', 'machine-readable list')
    .option('--wide', 'never cut a column')
    .action(async (o: { json?: boolean; wide?: boolean }) => {
      state.code = await casesCommand({ ...globals(), ...o }, io);
    });

  program
    .command('timeline')
    .description(
      'print the timeline of a case folder or sealed bundle, filtered (offline: no engine)',
    )
    .argument(
      '<case>',
      'case id, unique prefix, case folder (cases/<id>) or bundle (cases/<id>.tar.gz)',
    )
    .option(
      '--from <time>',
      'from this time (2026-11-28, 2026-11-28T20:17:00 in --tz, or RFC 3339 with offset)',
    )
    .option('--to <time>', 'up to this time (inclusive; a date alone: to the end of that day)')
    .option(
      '--source <name...>',
      'only these sources, space or comma separated (lifecycle, engine, exec, logs, fs, image, process, socket, custody)',
    )
    .option(
      '--grep <text>',
      'only events whose message (or path/command) contains this text, case-insensitive',
    )
    .addOption(
      new Option('--format <format>', 'output format')
        .choices([...TIMELINE_FORMATS])
        .default('table'),
    )
    .option(
      '--tz <zone>',
      'time zone for the table and for --from/--to without an offset (IANA name)',
      'UTC',
    )
    .option('--limit <n>', 'print at most n events', (v) => Number(v))
    .option('--wide', 'never cut the table (a pipe or a file is never cut anyway)')
    .action(
      async (
        input: string,
        o: {
          from?: string;
          to?: string;
          source?: string[];
          grep?: string;
          format: TimelineFormat;
          tz: string;
          limit?: number;
          wide?: boolean;
        },
      ) => {
        state.code = await timelineCommand({ ...globals(), input, ...o }, io);
      },
    );

  program
    .command('findings')
    .description(
      'print the findings of a case folder or sealed bundle, most severe first (offline: no engine)',
    )
    .argument(
      '<case>',
      'case id, unique prefix, case folder (cases/<id>) or bundle (cases/<id>.tar.gz)',
    )
    .option('--json', 'print findings.json')
    .option('--rules <file>', 'evaluate now with this rules file instead of reading findings.json')
    .option('--wide', 'never cut a line (a pipe or a file is never cut anyway)')
    .action(async (input: string, o: { json?: boolean; rules?: string; wide?: boolean }) => {
      state.code = await findingsCommand({ ...globals(), input, ...o }, io);
    });

  program
    .command('seal')
    .description(
      'seal a case whose run did not (interrupted or failed), or archive a sealed case again (no engine needed)',
    )
    .requiredOption('--case <case>', 'the case to seal (id, unique prefix or folder)')
    .option(
      '--sign-key <pem>',
      'Ed25519 private key (PEM) to sign with (default: a key made for the case, private half discarded)',
    )
    .option('--json', 'print the result as one JSON object')
    .action(async (o: { case: string; signKey?: string; json?: boolean }) => {
      state.code = await sealCommand(
        { ...globals(), caseId: o.case, signKey: o.signKey, json: o.json },
        io,
      );
    });

  program
    .command('verify')
    .description(
      'check a sealed bundle or case folder: hashes, manifest, custody chain, signature (offline: no engine)',
    )
    .argument('<bundle-or-case>', 'cases/<id>.tar.gz, a case folder, or a case id (its bundle)')
    .option('--pubkey <pem>', 'also require the signature to be made by this Ed25519 key')
    .option('--json', 'print the result as one JSON object')
    .action(async (input: string, o: { pubkey?: string; json?: boolean }) => {
      state.code = (
        await verifyCommand({ ...globals(), input, pubkey: o.pubkey, json: o.json }, io)
      ).exitCode;
    });

  addTuiCommand(program, io, state);

  return program;
}
