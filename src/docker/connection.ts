import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import Docker from 'dockerode';
import { UserError, errorMessage } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';
import { DEFAULT_CONTEXT, type DockerEndpoint } from './contexts.js';
import { engineStatus } from './errors.js';
import { DockerRuntime } from './runtime.js';

export interface EngineAddress {
  /** What we tell the user we tried, e.g. `unix:///var/run/docker.sock`. */
  display: string;
  /** True when the engine runs on this host (unix socket), so its /proc is ours to read. */
  local: boolean;
  options: Docker.DockerOptions;
}

export interface EngineInfo {
  address: string;
  local: boolean;
  version: string;
  apiVersion: string;
  os: string;
  kernel: string;
}

export interface Engine {
  docker: Docker;
  info: EngineInfo;
}

/**
 * Resolves where the engine is, the way the docker CLI does: `--host` beats
 * `DOCKER_HOST`, TLS from `DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH`, default socket.
 */
export function resolveEngineAddress(
  host: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): EngineAddress {
  return endpointAddress(envEndpoint(host, env), {
    hint: 'Set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem.',
  });
}

/**
 * The endpoint the docker CLI calls its `default` context: `--host`, else `DOCKER_HOST`, else the
 * local socket, with TLS from `DOCKER_TLS_VERIFY` + `DOCKER_CERT_PATH` (nothing is read yet).
 */
export function envEndpoint(host: string | undefined, env: NodeJS.ProcessEnv): DockerEndpoint {
  const raw = host ?? env.DOCKER_HOST ?? DEFAULT_SOCKET;
  const tlsVerify =
    env.DOCKER_TLS_VERIFY !== undefined &&
    env.DOCKER_TLS_VERIFY !== '' &&
    env.DOCKER_TLS_VERIFY !== '0';
  const certDir = env.DOCKER_CERT_PATH ?? path.join(env.HOME ?? '', '.docker');
  // As before contexts: an https:// host or DOCKER_TLS_VERIFY takes the three files of DOCKER_CERT_PATH.
  if (!tlsVerify && !raw.startsWith('https://')) return { host: raw };
  return {
    host: raw,
    tls: {
      ca: path.join(certDir, 'ca.pem'),
      cert: path.join(certDir, 'cert.pem'),
      key: path.join(certDir, 'key.pem'),
      verify: true,
    },
  };
}

/** The local engine's socket, when nothing names another. */
export const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/**
 * What an endpoint's address will be shown as, without reading any file (to tell two names of one
 * engine apart); the host as given when it is not understood (connecting will say why).
 */
export function endpointDisplay(ep: DockerEndpoint): string {
  try {
    return endpointAddress({ host: ep.host, ...(ep.tls ? { tls: { verify: true } } : {}) }).display;
  } catch {
    return ep.host;
  }
}

/**
 * The address of an endpoint given in full (a docker context, an engine of cirt's config): its host
 * and the TLS files to read. A `tcp://` host with TLS files is https (2376 by default), without
 * them plain http (2375); `https://` is TLS even without files (the system's CAs).
 */
export function endpointAddress(
  ep: DockerEndpoint,
  o: { hint?: string; what?: string } = {},
): EngineAddress {
  const raw = ep.host;
  const where = o.what ? ` (${o.what})` : '';
  if (raw.startsWith('unix://') || raw.startsWith('/')) {
    const socketPath = raw.startsWith('unix://') ? raw.slice('unix://'.length) : raw;
    if (!socketPath)
      throw new UserError(`Engine address "${safeText(raw)}"${where} has no socket path`, {
        hint: 'Use unix:///var/run/docker.sock',
      });
    return { display: `unix://${socketPath}`, local: true, options: { socketPath } };
  }
  const m = /^(tcp|http|https):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(raw);
  if (!m) {
    throw new UserError(`Engine address "${safeText(raw)}"${where} is not understood`, {
      hint: "Use unix:///path/to/docker.sock or tcp://host:port (as DOCKER_HOST, --host, a docker context or cirt's config).",
    });
  }
  const tls = m[1] === 'https' || ep.tls !== undefined;
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  const options: Docker.DockerOptions = {
    host: m[2].replace(/^\[|\]$/g, ''),
    port,
    protocol: tls ? 'https' : 'http',
  };
  if (ep.tls) {
    const read = (file: string): Buffer => {
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new UserError(
          `TLS is on${where} but ${safeText(file)} cannot be read: ${errorMessage(err)}`,
          { hint: o.hint ?? 'Check the TLS file paths of this engine.' },
        );
      }
    };
    if (ep.tls.ca) options.ca = read(ep.tls.ca);
    if (ep.tls.cert) options.cert = read(ep.tls.cert);
    if (ep.tls.key) options.key = read(ep.tls.key);
    // docker's SkipTLSVerify: the channel is encrypted, the engine's certificate is not checked.
    if (!ep.tls.verify)
      // docker-modem passes `agent` on to https.request; its typings leave it out.
      (options as { agent?: https.Agent }).agent = new https.Agent({
        rejectUnauthorized: false,
        ...(options.cert ? { cert: options.cert as Buffer } : {}),
        ...(options.key ? { key: options.key as Buffer } : {}),
      });
  }
  const shown = options.host?.includes(':') ? `[${options.host}]` : options.host;
  return { display: `${tls ? 'https' : 'tcp'}://${shown}:${port}`, local: false, options };
}

/** Connects and pings; an unreachable engine is a user error (exit 2) naming the address. */
export function connectEngine(
  host?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Engine> {
  return connectAddress(resolveEngineAddress(host, env));
}

/**
 * Connects to an address and pings it (5 s); an unreachable engine is a user error (exit 2) naming
 * the address, and the engine's name when it has one.
 */
export async function connectAddress(addr: EngineAddress, name?: string): Promise<Engine> {
  const docker = new Docker({ ...addr.options, timeout: 0 });
  let version: Docker.DockerVersion;
  try {
    await withTimeout(docker.ping(), 5000, 'no answer within 5 s');
    version = await docker.version();
  } catch (err) {
    // One line with the address and what to check (the TUI shows only the message, so no separate hint).
    const status = engineStatus(err);
    const why = status ? `it answered HTTP ${status} to /_ping instead of OK` : errorMessage(err);
    const check = addr.local
      ? 'check that dockerd is running and that you may read the socket (root or the docker group), or point DOCKER_HOST / --host at another engine'
      : "check that the engine listens there, that DOCKER_TLS_VERIFY / DOCKER_CERT_PATH (or the context's TLS files) match its TLS setup, and that no firewall blocks it";
    // `default` is what DOCKER_HOST / --host / the socket name: the address says it all.
    const which =
      name && name !== DEFAULT_CONTEXT ? `Docker engine "${safeText(name)}"` : 'Docker engine';
    throw new UserError(
      `Cannot reach the ${which} at ${addr.display} (${safeText(why)}): ${check}`,
      {
        cause: err,
      },
    );
  }
  return {
    docker,
    info: {
      address: addr.display,
      local: addr.local,
      version: version.Version,
      apiVersion: version.ApiVersion,
      os: version.Os,
      kernel: version.KernelVersion,
    },
  };
}

/** Connects to the Docker engine (as connectEngine) and returns it as cirt's container runtime. */
export async function connectRuntime(
  host?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ContainerRuntime> {
  const engine = await connectEngine(host, env);
  return new DockerRuntime(engine.docker, { kind: 'docker', name: 'default', ...engine.info });
}

/** Connects to an address (as connectAddress) and returns it as cirt's runtime named `name`. */
export async function connectNamedRuntime(
  addr: EngineAddress,
  name: string,
): Promise<ContainerRuntime> {
  const engine = await connectAddress(addr, name);
  return new DockerRuntime(engine.docker, { kind: 'docker', name, ...engine.info });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
