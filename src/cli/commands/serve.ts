import { EXIT } from '../../errors.js';
import { ConfigError, loadServeConfig } from '../../serve/config.js';
import { formatConfigProblem } from '../../serve/yaml-doc.js';
import { startService } from '../../serve/service.js';
import { println, type CommandIO, type GlobalOptions } from '../io.js';
import { signalEnd } from '../signal-end.js';

export interface ServeCommandOptions extends GlobalOptions {
  config: string;
  alerts?: string;
  check?: boolean;
  signal?: AbortSignal;
}

/**
 * `cirt serve --config FILE`: checks the whole config first (every problem, exit 2), then runs until
 * SIGTERM (drains, exit 0) or SIGINT (drains, exit 130). SIGHUP reloads the config.
 */
export async function serveCommand(o: ServeCommandOptions, io: CommandIO): Promise<number> {
  let config;
  try {
    config = loadServeConfig(o.config, io.cwd);
  } catch (err) {
    if (err instanceof ConfigError) {
      println(
        io.err,
        `cirt: ${err.problems.length} problem(s) in ${o.config}; nothing was started:`,
      );
      for (const p of err.problems) println(io.err, `  ${formatConfigProblem(p)}`);
      println(io.err, `  → ${err.hint}`);
      return EXIT.usage;
    }
    throw err;
  }
  if (o.check) {
    println(
      io.out,
      `✔ ${o.config}: ${config.rules.length} rule(s) (${config.rules.map((r) => r.name).join(', ')}), listen ${config.listen.text}`,
    );
    return EXIT.ok;
  }
  const log = (line: string): void =>
    println(io.err, `${new Date().toISOString()} cirt serve: ${line}`);
  const service = await startService({
    configFile: o.config,
    config,
    env: { cwd: io.cwd, env: io.env, host: o.host, casesDir: o.casesDir },
    alerts: o.alerts,
    log,
  });
  const onHup = (): void => void service.reload();
  process.on('SIGHUP', onHup);
  const signal = o.signal ?? new AbortController().signal;
  await new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  process.off('SIGHUP', onHup);
  await service.stop();
  const terminated = /SIGTERM/.test(
    String((signal.reason as Error | undefined)?.message ?? signal.reason),
  );
  // A service told to stop that drained and sealed has done its job: SIGTERM is a clean end, exit 0.
  if (terminated) signalEnd.clean = true;
  return terminated ? EXIT.ok : EXIT.interrupted;
}
