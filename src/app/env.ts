import path from 'node:path';
import type { ContainerRuntime } from '../runtime/types.js';

/** Where an application call runs: what the CLI, the TUI and the service pass alike. */
export interface AppEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--host`: the runtime's address (else DOCKER_HOST, else the default socket). */
  host?: string;
  /** `--cases-dir` (else CIRT_CASES_DIR, else ./cases). */
  casesDir?: string;
}

/** The cases folder, absolute: a relative --cases-dir or CIRT_CASES_DIR is taken from the cwd. */
export function casesDirOf(e: AppEnv): string {
  return path.resolve(e.cwd, e.casesDir ?? e.env.CIRT_CASES_DIR ?? 'cases');
}

/**
 * Connects to the container runtime named by the environment: the one place the app picks an
 * implementation. Imported here, on first use, so commands that never reach the engine (and
 * `--version`) do not load the engine client.
 */
export async function connect(e: AppEnv): Promise<ContainerRuntime> {
  const { connectRuntime } = await import('../docker/connection.js');
  return connectRuntime(e.host, e.env);
}
