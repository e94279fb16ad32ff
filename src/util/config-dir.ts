import os from 'node:os';
import path from 'node:path';

/**
 * cirt's per-user folder: `$XDG_CONFIG_HOME/cirt`, else `~/.config/cirt` (HOME from the environment
 * passed in, so tests and `sudo -E` point it where they mean).
 */
export function configDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CONFIG_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'cirt');
  return path.join(env.HOME || os.homedir(), '.config', 'cirt');
}
