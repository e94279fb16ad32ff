import { UserError } from '../../errors.js';
import { appEnv, rawTerminal, type CommandIO, type GlobalOptions } from '../io.js';

export interface TuiCommandOptions extends GlobalOptions {
  /** Open this case (id under the cases folder, or a path) on the Case screen. */
  case?: string;
  signal?: AbortSignal;
}

/** Resolves `--case` as every command does (app/case-ref.ts): an id, a unique prefix or a folder. */
export async function resolveCaseDir(
  ref: string,
  g: GlobalOptions,
  io: CommandIO,
): Promise<string> {
  // Loaded only with --case: the first frame of the TUI does not wait for the case store.
  const { caseFolder, resolveCase } = await import('../../app/case-ref.js');
  return caseFolder(resolveCase(ref, appEnv(g, io)), 'cirt tui --case');
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
  const caseDir = o.case ? await resolveCaseDir(o.case, o, io) : undefined;
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
