import fs from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';
import { UserError, errorMessage } from '../errors.js';
import type { ContainerRuntime } from '../runtime/types.js';
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
  const raw = host ?? env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  if (raw.startsWith('unix://') || raw.startsWith('/')) {
    const socketPath = raw.startsWith('unix://') ? raw.slice('unix://'.length) : raw;
    if (!socketPath)
      throw new UserError(`Engine address "${raw}" has no socket path`, {
        hint: 'Use unix:///var/run/docker.sock',
      });
    return { display: `unix://${socketPath}`, local: true, options: { socketPath } };
  }
  const m = /^(tcp|http|https):\/\/([^:/]+|\[[^\]]+\])(?::(\d+))?\/?$/.exec(raw);
  if (!m) {
    throw new UserError(`Engine address "${raw}" is not understood`, {
      hint: 'Use unix:///path/to/docker.sock or tcp://host:port (as DOCKER_HOST or --host).',
    });
  }
  const tlsVerify =
    env.DOCKER_TLS_VERIFY !== undefined &&
    env.DOCKER_TLS_VERIFY !== '' &&
    env.DOCKER_TLS_VERIFY !== '0';
  const tls = m[1] === 'https' || tlsVerify;
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  const options: Docker.DockerOptions = {
    host: m[2].replace(/^\[|\]$/g, ''),
    port,
    protocol: tls ? 'https' : 'http',
  };
  if (tls) {
    const certDir = env.DOCKER_CERT_PATH ?? path.join(env.HOME ?? '', '.docker');
    const read = (name: string): Buffer => {
      const file = path.join(certDir, name);
      try {
        return fs.readFileSync(file);
      } catch (err) {
        throw new UserError(`TLS is on but ${file} cannot be read: ${errorMessage(err)}`, {
          hint: 'Set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem.',
        });
      }
    };
    options.ca = read('ca.pem');
    options.cert = read('cert.pem');
    options.key = read('key.pem');
  }
  const shown = options.host?.includes(':') ? `[${options.host}]` : options.host;
  return { display: `${tls ? 'https' : 'tcp'}://${shown}:${port}`, local: false, options };
}

/** Connects and pings; an unreachable engine is a user error (exit 2) naming the address. */
export async function connectEngine(
  host?: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Engine> {
  const addr = resolveEngineAddress(host, env);
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
      : 'check that the engine listens there, that DOCKER_TLS_VERIFY / DOCKER_CERT_PATH match its TLS setup, and that no firewall blocks it';
    throw new UserError(`Cannot reach the Docker engine at ${addr.display} (${why}): ${check}`, {
      cause: err,
    });
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
  return new DockerRuntime(engine.docker, { kind: 'docker', ...engine.info });
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
