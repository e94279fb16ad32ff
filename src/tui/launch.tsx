import { render } from 'ink';
import type { AppEnv } from '../app/env.js';
import { EXIT } from '../errors.js';
import { realServices } from './adapters/real-services.js';
import { App } from './App.js';
import type { TuiServices } from './services.js';
import type { TuiAction } from './state/actions.js';
import { initialState } from './state/reducer.js';
import { themeFor } from './theme.js';

// Alternate screen on/off, cursor shown, attributes reset: the terminal as it was before.
const ENTER = '\x1b[?1049h\x1b[H';
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

/** Ink's options for the real terminal (the benchmark renders with the same). */
export const RENDER_OPTIONS = { exitOnCtrlC: false, patchConsole: true, maxFps: 60 } as const;

export interface LaunchOptions {
  /** Where the app layer works: cwd, environment, runtime address, cases folder. */
  env: AppEnv;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Where console output made while the UI is up goes (Ink prints it above the frame). */
  stderr?: NodeJS.WriteStream;
  signal?: AbortSignal;
  caseDir?: string;
  /** Tests replace the engine, runner and case folders. */
  services?: TuiServices;
}

/**
 * Runs the TUI until the user leaves; resolves with the exit code. The terminal is restored on every
 * path out: a normal quit, a thrown error (the finally), and a crash that skips it (process 'exit').
 */
export async function launchTui(o: LaunchOptions): Promise<number> {
  const { stdout, stdin } = o;
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {
      // stdin already closed
    }
    stdout.write(LEAVE);
  };
  process.once('exit', restore);
  stdout.write(ENTER);
  try {
    const size = { columns: stdout.columns || 80, rows: stdout.rows || 24 };
    const startWith: TuiAction[] = o.caseDir ? [{ type: 'case:request', dir: o.caseDir }] : [];
    const instance = render(
      <App
        services={o.services ?? realServices(o.env)}
        initial={initialState(size)}
        theme={themeFor(o.env.env)}
        signal={o.signal}
        startWith={startWith}
      />,
      { stdout, stdin, ...(o.stderr ? { stderr: o.stderr } : {}), ...RENDER_OPTIONS },
    );
    const result = (await instance.waitUntilExit()) as { code?: number } | undefined;
    return typeof result?.code === 'number' ? result.code : EXIT.ok;
  } finally {
    restore();
    process.removeListener('exit', restore);
  }
}
