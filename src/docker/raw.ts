import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type DockerModem from 'docker-modem';

export interface DialSpec {
  /** With `query`, the bare path; without, the path with its query already encoded (exact bytes). */
  path: string;
  method: 'GET' | 'HEAD';
  query?: Record<string, unknown>;
  statusCodes: Record<number, true | string>;
  signal?: AbortSignal;
}

/** One streaming engine request; errors carry the engine's `statusCode` and JSON message. */
export function dialStream(docker: Docker, spec: DialSpec): Promise<IncomingMessage> {
  const modem = docker.modem as DockerModem;
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: spec.query ? `${spec.path}?` : spec.path,
        method: spec.method,
        // An empty `_query` keeps docker-modem from appending to or trimming a pre-encoded path.
        options: spec.query ?? { _query: {} },
        abortSignal: spec.signal,
        isStream: true,
        statusCodes: spec.statusCodes,
      } as DockerModem.DialOptions,
      (err, data) => (err ? reject(err) : resolve(data as IncomingMessage)),
    );
  });
}

/**
 * Opens an engine endpoint as a byte stream (dockerode buffers some endpoints, e.g. logs
 * without `follow`, whole in memory; evidence must stream).
 */
export function engineStream(
  docker: Docker,
  path: string,
  query: Record<string, unknown>,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return dialStream(docker, {
    path,
    method: 'GET',
    query,
    signal,
    statusCodes: {
      200: true,
      400: 'bad parameter',
      404: 'no such container',
      500: 'server error',
      501: 'not implemented',
    },
  });
}
