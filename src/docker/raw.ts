import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import type DockerModem from 'docker-modem';

/**
 * Opens an engine endpoint as a byte stream (dockerode buffers some endpoints, e.g. logs
 * without `follow`, whole in memory; evidence must stream). Errors carry the engine's
 * `statusCode` and JSON message like every dockerode error.
 */
export function engineStream(docker: Docker, path: string, query: Record<string, unknown>, signal?: AbortSignal): Promise<IncomingMessage> {
  const modem = docker.modem as DockerModem;
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: `${path}?`,
        method: 'GET',
        options: query,
        abortSignal: signal,
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 404: 'no such container', 500: 'server error', 501: 'not implemented' },
      } as DockerModem.DialOptions,
      (err, data) => (err ? reject(err) : resolve(data as IncomingMessage)),
    );
  });
}
