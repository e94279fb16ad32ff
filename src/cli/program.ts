import path from 'node:path';
import { Option, type Command } from 'commander';
import { isIncidentDir } from '../evidence/incident-dir.js';
import { toolVersion } from '../util/pkg.js';
import type { CaseMeta } from '../app/case-meta.js';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { TIMELINE_FORMATS, type TimelineFormat } from './commands/timeline-formats.js';
import { addServeCommands } from './commands/serve-program.js';
import type { CommandIO, GlobalOptions } from './io.js';
import { addTuiCommand, rootCommand } from './tui-program.js';

interface MetaFlags {
  caseNumber?: string;
  evidenceNumber?: string;
  responder?: string;
  description?: string;
  notes?: string;
}

const metaOf = (o: MetaFlags): CaseMeta => ({
  caseNumber: o.caseNumber,
  evidenceNumber: o.evidenceNumber,
  responder: o.responder,
  description: o.description,
  notes: o.notes,
});

/** commander's collector for a repeatable option. */
const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Result of one CLI invocation: the exit code. */
export type Exit = number;

/**
 * Builds the command tree. Each action stores its exit code in `state.code`; each command's module
 * is imported only when that command runs, so `--version` and `run` load no more than they use;
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
    .option(
      '-t, --target <container>',
      'container name, id or unique id prefix (ENGINE/NAME on several engines); repeat for several: one incident',
      collect,
      [],
    )
    .option(
      '-f, --filter <key=value>',
      'every container matching, as docker ps --filter (label=, ancestor=, network=, name=, id=, status=): one incident',
      collect,
      [],
    )
    .option('-a, --all', 'with --filter: stopped containers match too')
    .option(
      '--engines <names>',
      'select on several engines: all (the default engine, every docker context, the config) or a,b; one incident',
    )
    .option('--max-targets <n>', 'refuse a set larger than this (default 100)', (v) => Number(v))
    .option(
      '--incident <id>',
      'incident id of a multi-target run (default: <utc-time>-incident-<playbook>)',
    )
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
    .option(
      '--sign-key <pem>',
      'Ed25519 private key (PEM) to sign the seal with (default: the key of `cirt keys init`, else one made for the case)',
    )
    .option('--case-number <n>', 'case number recorded in case.json, the report and custody')
    .option('--evidence-number <n>', 'evidence (item) number recorded with the case')
    .option('--responder <name>', 'the examiner (default: SUDO_USER@host, else user@host)')
    .option('--description <text>', 'what the case is about')
    .option('--notes <text>', "the examiner's notes")
    .option('--tsa <url>', 'timestamp SHA256SUMS at sealing with this RFC 3161 authority')
    .option('--encrypt-to <cert...>', 'also encrypt the bundle to these X.509 certificates (CMS)')
    .option(
      '--journal <dir>',
      "the flight recorder's journal folder: collect:events takes the container's history from it (default: $CIRT_JOURNAL)",
    )
    .action(
      async (
        playbook: string,
        o: {
          target: string[];
          filter: string[];
          all?: boolean;
          maxTargets?: number;
          incident?: string;
          engines?: string;
          alert?: string;
          case?: string;
          title?: string;
          ticket?: string;
          yes?: boolean;
          dryRun?: boolean;
          json?: boolean;
          signKey?: string;
          tsa?: string;
          encryptTo?: string[];
          journal?: string;
        } & MetaFlags,
      ) => {
        // Several targets or a filter (even one that selects one container): one incident folder.
        if (o.target.length > 1 || o.filter.length || o.engines !== undefined) {
          if (o.alert || o.case)
            throw new UserError(
              `--${o.alert ? 'alert' : 'case'} names one container's case: it does not go with several -t or --filter`,
              {
                hint: 'Use --incident ID to name a multi-target run.',
              },
            );
          const r = await (
            await import('./commands/incident-run.js')
          ).incidentRunCommand(
            {
              ...globals(),
              playbook,
              targets: o.target,
              filters: o.filter,
              all: o.all,
              maxTargets: o.maxTargets,
              incidentId: o.incident,
              engineNames: o.engines,
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
          return;
        }
        if (o.incident || o.maxTargets !== undefined || o.all)
          throw new UserError(
            '--incident, --max-targets and --all go with several -t or --filter',
            {
              hint: 'Add --filter KEY=VALUE or more -t, or leave them out for a single container.',
            },
          );
        const r = await (
          await import('./commands/run.js')
        ).runCommand(
          {
            ...globals(),
            playbook,
            target: o.target[0],
            alert: o.alert,
            caseId: o.case,
            title: o.title,
            ticket: o.ticket,
            yes: o.yes,
            dryRun: o.dryRun,
            json: o.json,
            signKey: o.signKey,
            meta: metaOf(o),
            tsa: o.tsa,
            encryptTo: o.encryptTo,
            journal: o.journal ?? io.env.CIRT_JOURNAL,
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
      state.code = await (await import('./commands/validate.js')).validateCommand(refs, o, io);
    });

  program
    .command('actions')
    .description(
      'list every action with its params and an example, or show one (cirt actions NAME)',
    )
    .argument('[name]', 'one action, e.g. contain:pause (or its verb alone when unique: pause)')
    .option('--json', 'machine-readable list (one object for a named action)')
    .action(async (name: string | undefined, o: { json?: boolean }) => {
      state.code = await (await import('./commands/actions.js')).actionsCommand({ ...o, name }, io);
    });

  program
    .command('ps')
    .description('list containers, and which are quarantined by which case')
    .option('-a, --all', 'include stopped containers')
    .option(
      '-f, --filter <key=value>',
      'only containers matching, as docker ps --filter (label=, ancestor=, network=, name=, id=, status=); repeatable',
      collect,
      [],
    )
    .option('--json', 'machine-readable list (one JSON array)')
    .option(
      '--engines <names>',
      "list several engines at once with an ENGINE column: all (the default engine, every docker context, cirt's config) or a,b; an engine that does not answer is named on stderr and makes the exit code 1",
    )
    .option('-q, --quiet', 'only the container ids, one a line')
    .option('--no-trunc', 'full ids, and no column cut')
    .option('--format <format>', 'table, or json (one JSON object a line)')
    .option('--wide', 'never cut a column')
    .action(
      async (o: {
        all?: boolean;
        json?: boolean;
        engines?: string;
        filter?: string[];
        quiet?: boolean;
        trunc?: boolean;
        format?: string;
        wide?: boolean;
      }) => {
        const { trunc, ...rest } = o;
        state.code = await (
          await import('./commands/ps.js')
        ).psCommand({ ...globals(), ...rest, noTrunc: trunc === false }, io);
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
        await (
          await import('./commands/release.js')
        ).releaseCommand(
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
      state.code = await (
        await import('./commands/cases.js')
      ).casesCommand({ ...globals(), ...o }, io);
    });

  program
    .command('timeline')
    .description(
      'print the timeline of a case folder or sealed bundle, filtered (offline: no engine)',
    )
    .argument(
      '<case>',
      'case id, unique prefix, case folder (cases/<id>), bundle (cases/<id>.tar.gz) or incident folder (merged, with a container column)',
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
        state.code = await (
          await import('./commands/timeline.js')
        ).timelineCommand({ ...globals(), input, ...o }, io);
      },
    );

  program
    .command('findings')
    .description(
      'print the findings of a case folder or sealed bundle, most severe first (offline: no engine)',
    )
    .argument(
      '<case>',
      'case id, unique prefix, case folder, bundle, or incident folder (findings grouped across its cases)',
    )
    .option('--json', 'print findings.json')
    .option('--rules <file>', 'evaluate now with this rules file instead of reading findings.json')
    .option('--wide', 'never cut a line (a pipe or a file is never cut anyway)')
    .action(async (input: string, o: { json?: boolean; rules?: string; wide?: boolean }) => {
      const dir = path.resolve(io.cwd, input);
      state.code = isIncidentDir(dir)
        ? await (
            await import('./commands/findings-incident.js')
          ).findingsIncidentCommand({ dir, input, ...o }, io)
        : await (
            await import('./commands/findings.js')
          ).findingsCommand({ ...globals(), input, ...o }, io);
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
    .option('--tsa <url>', 'timestamp SHA256SUMS with this RFC 3161 authority')
    .option('--encrypt-to <cert...>', 'also encrypt the bundle to these X.509 certificates (CMS)')
    .option('--case-number <n>', 'set the case number before sealing')
    .option('--evidence-number <n>', 'set the evidence number before sealing')
    .option('--responder <name>', 'set the examiner before sealing')
    .option('--description <text>', 'set the description before sealing')
    .option('--notes <text>', "set the examiner's notes before sealing")
    .option('--json', 'print the result as one JSON object')
    .action(
      async (
        o: {
          case: string;
          signKey?: string;
          json?: boolean;
          tsa?: string;
          encryptTo?: string[];
        } & MetaFlags,
      ) => {
        state.code = await (
          await import('./commands/seal.js')
        ).sealCommand(
          {
            ...globals(),
            caseId: o.case,
            signKey: o.signKey,
            tsa: o.tsa,
            encryptTo: o.encryptTo,
            meta: metaOf(o),
            json: o.json,
          },
          io,
        );
      },
    );

  program
    .command('verify')
    .description(
      'check a sealed bundle or case folder: hashes, manifest, custody chain, signature (offline: no engine)',
    )
    .argument(
      '<bundle-or-case>',
      'cases/<id>.tar.gz, a case folder, a case id (its bundle), or an incident folder (every case in it)',
    )
    .option('--pubkey <pem>', 'also require the signature to be made by this Ed25519 key')
    .option(
      '--trusted-keys <file>',
      'the signers you trust (PEM public keys, e.g. `cirt keys export` output appended): say which one signed',
    )
    .option('--tsa-ca <pem>', 'CA certificate(s) the RFC 3161 timestamp must chain to')
    .option('--json', 'print the result as one JSON object')
    .action(
      async (
        input: string,
        o: { pubkey?: string; trustedKeys?: string; tsaCa?: string; json?: boolean },
      ) => {
        // An incident folder (incident.json): the incident and every case in it.
        state.code = (
          isIncidentDir(path.resolve(io.cwd, input))
            ? await (
                await import('./commands/verify-incident.js')
              ).verifyIncidentCommand({ input, pubkey: o.pubkey, json: o.json }, io)
            : await (
                await import('./commands/verify.js')
              ).verifyCommand({ ...globals(), input, ...o }, io)
        ).exitCode;
      },
    );

  program
    .command('keys')
    .description(
      'your signing keys under ~/.config/cirt/keys: init makes one (used for every seal), list shows them, export prints a public key (PEM)',
    )
    .argument('<verb>', 'init | list | export')
    .option('--name <name>', 'key name', 'responder')
    .option('--json', 'machine-readable output')
    .action(async (verb: string, o: { name: string; json?: boolean }) => {
      if (verb !== 'init' && verb !== 'list' && verb !== 'export')
        throw new UserError(`Unknown keys verb "${safeText(verb)}"`, {
          hint: 'Use `cirt keys init`, `cirt keys list` or `cirt keys export`.',
        });
      state.code = await (await import('./commands/keys.js')).keysCommand(verb, o, io);
    });

  addServeCommands(program, io, state, globals);

  const journal = program
    .command('journal')
    .description(
      "the flight recorder's journal: check it, or read records out of it (offline: no engine)",
    );
  journal
    .command('verify')
    .description(
      'check every record hash, the chain across segments, and each sealed segment (exit 1: tampered)',
    )
    .argument('[dir]', 'the journal folder (default: $CIRT_JOURNAL)')
    .option('--pubkey <pem>', 'require every segment to be signed by this Ed25519 key')
    .option('--json', 'print the result as one JSON object')
    .action(async (dir: string | undefined, o: { pubkey?: string; json?: boolean }) => {
      state.code = (await import('./commands/journal.js')).journalVerifyCommand({ dir, ...o }, io);
    });
  journal
    .command('query')
    .description(
      'print journal records as stored (NDJSON), optionally about one container and a time window',
    )
    .argument('[dir]', 'the journal folder (default: $CIRT_JOURNAL)')
    .option('--container <x>', 'container id, id prefix or name')
    .option('--since <t>', 'from this time: Unix seconds, RFC 3339, or back from now (15m)')
    .option('--until <t>', 'up to this time (same forms)')
    .action(
      async (
        dir: string | undefined,
        o: { container?: string; since?: string; until?: string },
      ) => {
        state.code = (await import('./commands/journal.js')).journalQueryCommand({ dir, ...o }, io);
      },
    );

  addTuiCommand(program, io, state);

  return program;
}
