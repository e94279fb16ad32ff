import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import https from 'node:https';
import { UserError } from '../errors.js';
import type { PendingItem } from './approvals.js';
import type { ServeConfig } from './config.js';

/**
 * `cirt pending|approve|reject` talk to the running service through its own API, with the token
 * from its config: there is one source of truth (the service's memory), and every answer is
 * checked and recorded where the run waits.
 */
export async function callService(
  cfg: ServeConfig,
  method: 'GET' | 'POST',
  pathName: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = {};
  if (cfg.token) headers.authorization = `Bearer ${cfg.token}`;
  if (payload) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = payload.length;
  }
  const l = cfg.listen;
  const port = l.kind === 'tcp' && l.port === 0 ? runningPort(cfg) : l.kind === 'tcp' ? l.port : 0;
  const base =
    l.kind === 'unix'
      ? { socketPath: l.path }
      : { host: l.host === '0.0.0.0' ? '127.0.0.1' : l.host === '::' ? '::1' : l.host, port };
  const lib = cfg.tls ? https : http;
  // The service's own certificate is the CA a client of a self-signed service trusts.
  const tls = cfg.tls
    ? { ca: cfg.tls.cert, servername: l.kind === 'tcp' ? l.host : undefined }
    : {};
  return new Promise((resolve, reject) => {
    const req = lib.request(
      { ...base, ...tls, method, path: pathName, headers, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = text;
          try {
            json = JSON.parse(text);
          } catch {
            // Kept as text.
          }
          resolve({ status: res.statusCode ?? 0, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (err) =>
      reject(
        new UserError(`Cannot reach cirt serve at ${l.text}: ${err.message}`, {
          hint: 'Is the service running with this --config? (systemctl status cirt-serve; GET /healthz)',
        }),
      ),
    );
    req.end(payload);
  });
}

/** `listen: host:0` takes any free port: the running service names it in its state dir. */
function runningPort(cfg: ServeConfig): number {
  try {
    const { url } = JSON.parse(
      fs.readFileSync(path.join(cfg.stateDir, 'service.json'), 'utf8'),
    ) as { url: string };
    return Number(new URL(url).port);
  } catch {
    throw new UserError(
      `The config listens on port 0 (any free port) and no running service named its port in ${cfg.stateDir}/service.json`,
      {
        hint: 'Start `cirt serve` with this config first, or give listen a fixed port.',
      },
    );
  }
}

export async function listPending(cfg: ServeConfig): Promise<PendingItem[]> {
  const r = await callService(cfg, 'GET', '/pending');
  if (r.status !== 200)
    throw new UserError(`cirt serve answered ${r.status}: ${JSON.stringify(r.json)}`, {
      hint: 'Check the token_file of the config.',
    });
  return (r.json as { pending: PendingItem[] }).pending;
}
