import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * The docker CLI's contexts, read the way the CLI stores them (docker/cli `cli/context/store`):
 * `$DOCKER_CONFIG/config.json` (default `~/.docker`) holds `currentContext`; each context is
 * `contexts/meta/<sha256 of its name>/meta.json` (`Name`, `Endpoints.docker.Host`,
 * `Endpoints.docker.SkipTLSVerify`), its TLS material `contexts/tls/<sha256>/docker/{ca,cert,key}.pem`.
 * Read-only: cirt never writes the CLI's store.
 */

/** The context the docker CLI calls `default`: DOCKER_HOST or the local socket, never stored. */
export const DEFAULT_CONTEXT = 'default';

/** A docker endpoint: where it is and the TLS files to use (paths, read when connecting). */
export interface DockerEndpoint {
  host: string;
  tls?: TlsFiles;
}

export interface TlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
  /** Check the engine's certificate against `ca` (false: docker's SkipTLSVerify). */
  verify: boolean;
}

export interface DockerContext extends DockerEndpoint {
  name: string;
  /** The meta.json it came from (for messages). */
  file: string;
}

/** Contexts' meta.json are small; a huge one is not the CLI's. */
const MAX_META_BYTES = 64 * 1024;

/** `$DOCKER_CONFIG`, else `~/.docker` (as the CLI's config.Dir()). */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string {
  return env.DOCKER_CONFIG || path.join(env.HOME ?? '', '.docker');
}

/** The CLI names a context's folders by the sha256 of its name. */
export function contextDirName(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

/** `currentContext` of config.json; undefined when the file or the key is absent. */
export function currentContext(env: NodeJS.ProcessEnv): string | undefined {
  const file = path.join(dockerConfigDir(env), 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot read the docker CLI's ${safeText(file)}: ${errorMessage(err)}`, {
      hint: 'Fix its permissions, or point DOCKER_CONFIG at another folder.',
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new UserError(`The docker CLI's ${safeText(file)} is not JSON: ${errorMessage(err)}`, {
      hint: 'The docker CLI would refuse it too; fix the file or point DOCKER_CONFIG elsewhere.',
    });
  }
  const cur = (doc as { currentContext?: unknown } | null)?.currentContext;
  return typeof cur === 'string' && cur !== '' ? cur : undefined;
}

/** Every context in the store, sorted by name; a damaged one is a UserError naming its file. */
export function listContexts(env: NodeJS.ProcessEnv): DockerContext[] {
  const metaRoot = path.join(dockerConfigDir(env), 'contexts', 'meta');
  let dirs: string[];
  try {
    dirs = fs.readdirSync(metaRoot);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserError(
      `Cannot list docker contexts in ${safeText(metaRoot)}: ${errorMessage(err)}`,
    );
  }
  const out: DockerContext[] = [];
  for (const d of dirs) {
    if (!/^[0-9a-f]{64}$/.test(d)) continue;
    const file = path.join(metaRoot, d, 'meta.json');
    if (!fs.existsSync(file)) continue;
    out.push(readMeta(env, file));
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** One context by name; undefined when the store has none of that name. */
export function findContext(env: NodeJS.ProcessEnv, name: string): DockerContext | undefined {
  const file = path.join(
    dockerConfigDir(env),
    'contexts',
    'meta',
    contextDirName(name),
    'meta.json',
  );
  if (!fs.existsSync(file)) return undefined;
  return readMeta(env, file);
}

function readMeta(env: NodeJS.ProcessEnv, file: string): DockerContext {
  const bad = (why: string): UserError =>
    new UserError(`Docker context file ${safeText(file)} ${why}`, {
      hint: 'Fix or remove the context (`docker context rm NAME`), or point DOCKER_CONFIG elsewhere.',
    });
  let doc: unknown;
  try {
    const st = fs.statSync(file);
    if (st.size > MAX_META_BYTES) throw bad(`is larger than ${MAX_META_BYTES} bytes`);
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw bad(`cannot be read as JSON: ${errorMessage(err)}`);
  }
  const m = doc as {
    Name?: unknown;
    Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } };
  } | null;
  if (typeof m?.Name !== 'string' || !m.Name) throw bad('has no Name');
  // The folder must be the name's digest: a copied folder would otherwise answer to another name.
  if (path.basename(path.dirname(file)) !== contextDirName(m.Name))
    throw bad(`is in a folder that is not the sha256 of its Name "${safeText(m.Name)}"`);
  const ep = m.Endpoints?.docker;
  if (typeof ep?.Host !== 'string' || !ep.Host)
    throw bad(`has no docker endpoint (Endpoints.docker.Host)`);
  const tlsDir = path.join(
    dockerConfigDir(env),
    'contexts',
    'tls',
    contextDirName(m.Name),
    'docker',
  );
  const has = (f: string): string | undefined => {
    const p = path.join(tlsDir, f);
    return fs.existsSync(p) ? p : undefined;
  };
  const ca = has('ca.pem');
  const cert = has('cert.pem');
  const key = has('key.pem');
  const skip = ep.SkipTLSVerify === true;
  // As the CLI: TLS when the context holds TLS material or says to skip verification.
  const tls =
    ca || cert || key || skip
      ? { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}), verify: !skip }
      : undefined;
  return { name: m.Name, host: ep.Host, file, ...(tls ? { tls } : {}) };
}
