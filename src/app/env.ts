import path from 'node:path';
import type { ContainerRuntime } from '../runtime/types.js';
import { connectEngine, resolveEngine } from './engines.js';

/** Where an application call runs: what the CLI, the TUI and the service pass alike. */
export interface AppEnv {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--host`: the runtime's address (else DOCKER_HOST, else the default socket). */
  host?: string;
  /** `--context`: a docker context or an engine of cirt's config (see app/engines.ts). */
  context?: string;
  /** `--config`: cirt's config file (else CIRT_CONFIG, else ~/.config/cirt/config.yaml). */
  config?: string;
  /** `--cases-dir` (else CIRT_CASES_DIR, else ./cases). */
  casesDir?: string;
}

/** The cases folder, absolute: a relative --cases-dir or CIRT_CASES_DIR is taken from the cwd. */
export function casesDirOf(e: AppEnv): string {
  return path.resolve(e.cwd, e.casesDir ?? e.env.CIRT_CASES_DIR ?? 'cases');
}

/**
 * Connects to the one engine the environment names (--host, --context, DOCKER_HOST, DOCKER_CONTEXT,
 * the docker CLI's current context, the local socket): the one place the app picks an implementation.
 */
export async function connect(e: AppEnv): Promise<ContainerRuntime> {
  const ref = await resolveEngine({ host: e.host, context: e.context, config: e.config }, e);
  return (await connectEngine(ref)).runtime;
}
