import type { IncomingMessage } from 'node:http';
import type Docker from 'dockerode';
import { dialStream } from './raw.js';

/**
 * Raw engine requests for filesystem evidence. Responses are returned as the engine's byte
 * streams (never parsed or re-encoded by dockerode), and container paths are sent as exact
 * bytes: a name that is not valid UTF-8 must not be re-encoded on its way to the engine.
 */

/** What `HEAD /containers/{id}/archive` says about a path (X-Docker-Container-Path-Stat). */
export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

/** Go's os.ModeDir bit, as the engine encodes `mode` in the path stat. */
const GO_MODE_DIR = 2 ** 31;

export function isDirStat(s: PathStat): boolean {
  return Math.floor(s.mode / GO_MODE_DIR) % 2 === 1;
}

/** Percent-encodes every byte except RFC 3986 unreserved ones, so any byte string survives the query. */
export function encodeQueryBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~/]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const CONTAINER_CODES = { 200: true, 404: 'no such container', 500: 'server error' } as const;
const ARCHIVE_CODES = {
  200: true,
  400: 'bad parameter',
  404: 'container or path does not exist',
  500: 'server error',
} as const;

/** `GET /containers/{id}/changes`, as the engine's raw JSON bytes. */
export function changesStream(
  docker: Docker,
  id: string,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return dialStream(docker, {
    path: `/containers/${encodeURIComponent(id)}/changes?`,
    method: 'GET',
    statusCodes: CONTAINER_CODES,
    signal,
  });
}

/** `GET /containers/{id}/archive?path=…`: a tar of the path (a directory with everything under it); symlinks are not followed. */
export function archiveStream(
  docker: Docker,
  id: string,
  containerPath: Buffer,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return dialStream(docker, {
    path: `/containers/${encodeURIComponent(id)}/archive?path=${encodeQueryBytes(containerPath)}`,
    method: 'GET',
    statusCodes: ARCHIVE_CODES,
    signal,
  });
}

/** `HEAD /containers/{id}/archive?path=…`: the path's stat, or null when it does not exist. */
export async function statPath(
  docker: Docker,
  id: string,
  containerPath: Buffer,
  signal?: AbortSignal,
): Promise<PathStat | null> {
  let res: IncomingMessage;
  try {
    res = await dialStream(docker, {
      path: `/containers/${encodeURIComponent(id)}/archive?path=${encodeQueryBytes(containerPath)}`,
      method: 'HEAD',
      statusCodes: ARCHIVE_CODES,
      signal,
    });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
  res.resume();
  const header = res.headers['x-docker-container-path-stat'];
  if (typeof header !== 'string') return null;
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PathStat;
}

/** `GET /containers/{id}/export`: the container's whole filesystem as a tar stream. */
export function exportStream(
  docker: Docker,
  id: string,
  signal?: AbortSignal,
): Promise<IncomingMessage> {
  return dialStream(docker, {
    path: `/containers/${encodeURIComponent(id)}/export?`,
    method: 'GET',
    statusCodes: CONTAINER_CODES,
    signal,
  });
}
