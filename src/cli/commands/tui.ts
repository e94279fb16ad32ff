import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { appEnv, casesDirOf, rawTerminal, type CommandIO, type GlobalOptions } from '../io.js';

export interface TuiCommandOptions extends GlobalOptions {
  /** Open this case (id under the cases folder, or a path) on the Case screen. */
  case?: string;
  signal?: AbortSignal;
}

/** Resolves `--case`: a folder path as given, else an id under the cases folder. */
export function resolveCaseDir(ref: string, g: GlobalOptions, io: CommandIO): string {
  const asPath = path.resolve(io.cwd, ref);
  if (fs.existsSync(path.join(asPath, 'case.json'))) return asPath;
  const byId = path.join(casesDirOf(g, io), ref);
  if (fs.existsSync(path.join(byId, 'case.json'))) return byId;
  throw new UserError(`No case "${ref}" (looked for ${asPath} and ${byId})`, {
    hint: 'Pass a case id under the cases folder (--cases-dir) or the path of a case folder.',
  });
}

/**
 * `cirt` / `cirt tui`: the interactive terminal UI. It needs a terminal on both ends; scripts get
 * a usage error pointing at `cirt run`. Ink and React are loaded only here, so other commands stay fast.
 */
export async function tuiCommand(o: TuiCommandOptions, io: CommandIO): Promise<number> {
  // Ink draws with escape codes of its own, so it gets the terminal itself, not the neutralising
  // writer; everything it shows from a case or the engine is made safe where it is composed (clip).
  const out = rawTerminal(io.out) as NodeJS.WriteStream;
  if (!out.isTTY || !process.stdin.isTTY) {
    throw new UserError(
      'The interactive UI needs a terminal (stdin and stdout are not both a TTY)',
      {
        hint: 'In scripts use `cirt run <playbook> --target <container> [--yes] [--json]`; `cirt --help` lists the commands.',
      },
    );
  }
  const caseDir = o.case ? resolveCaseDir(o.case, o, io) : undefined;
  // React's development build profiles every render (several times slower): the TUI is not a dev
  // build. Set before React is first loaded, by the import below; an explicit NODE_ENV is respected.
  process.env.NODE_ENV ??= 'production';
  // Ink renders nothing live when it thinks it runs in CI (is-in-ci reads CI when Ink loads), but
  // this is an interactive terminal by the check above: a responder's shell may well export CI.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  const { launchTui } = await import('../../tui/launch.js');
  return launchTui({
    env: appEnv(o, io),
    stdout: out,
    stdin: process.stdin,
    signal: o.signal,
    caseDir,
  });
}
