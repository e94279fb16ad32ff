import { createHash, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Approval } from '../runner/outcome.js';
import type { Intake } from './alert-store.js';
import type { PendingItem } from './approvals.js';
import type { ServeConfig } from './config.js';
import type { Metrics } from './metrics.js';

/** What the HTTP front needs from the service: it decodes and checks, the service decides. */
export interface HttpHandlers {
  config: () => ServeConfig;
  metrics: Metrics;
  /** Keeps and queues an alert; returns what to answer. */
  take: (raw: Buffer, from: string, t0: number) => Intake;
  /** Whether new alerts are taken (false while draining, or when the queue is full). */
  accepting: () => { ok: true } | { ok: false; why: string };
  pending: () => PendingItem[];
  decide: (id: string, answer: Approval, by: string) => boolean;
  health: () => Record<string, unknown>;
}

/** The token check in constant time: both sides hashed first, so neither length nor content leaks. */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  const given = createHash('sha256')
    .update(m ? m[1] : '')
    .digest();
  const want = createHash('sha256').update(token).digest();
  return timingSafeEqual(given, want) && m !== null;
}

function send(
  res: http.ServerResponse,
  code: number,
  body: unknown,
  type = 'application/json',
): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body)}\n`;
  res.writeHead(code, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

/** Ends a request whose body we will not read: answer, then close (a client still sending gets a reset, not a hang). */
function refuse(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  code: number,
  body: unknown,
): void {
  res.setHeader('connection', 'close');
  send(res, code, body);
  req.resume();
  res.on('finish', () => req.socket.destroySoon?.());
}

/** Reads a body up to `limit` bytes; undefined when it is larger (the caller answers 413). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      n += c.length;
      if (n > limit) {
        over = true;
        chunks.length = 0;
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

/**
 * The service's HTTP API: `POST /` (an alert: Falco http_output or Falcosidekick webhook JSON),
 * `GET /healthz` (no token), `GET /metrics`, `GET /pending`, `POST /pending/<id>/approve|reject`.
 * A request without the right token (401), too large (413) or not an alert (400) leaves nothing
 * behind; an alert is kept and answered 202 with its id before any work is done for it.
 */
export function createApiServer(h: HttpHandlers): http.Server {
  const cfg = h.config();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const t0 = performance.now();
    void route(req, res, t0).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { error: `internal error: ${(err as Error).message}` });
      else res.destroy();
    });
  };
  const route = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    t0: number,
  ): Promise<void> => {
    const c = h.config();
    const url = new URL(req.url ?? '/', 'http://cirt');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/healthz') return send(res, 200, h.health());
    // The token is checked before a byte of the body is read.
    if (c.token !== undefined && !tokenMatches(req.headers.authorization, c.token)) {
      h.metrics.refuse('unauthorized');
      res.setHeader('www-authenticate', 'Bearer realm="cirt"');
      return refuse(req, res, 401, { error: 'missing or wrong bearer token' });
    }
    if (method === 'POST' && url.pathname === '/') return alert(req, res, t0, c);
    if (method === 'GET' && url.pathname === '/metrics')
      return send(res, 200, h.metrics.text(), 'text/plain; version=0.0.4');
    if (method === 'GET' && url.pathname === '/pending')
      return send(res, 200, { pending: h.pending() });
    const m = /^\/pending\/([0-9a-f]{1,32})\/(approve|reject)$/.exec(url.pathname);
    if (method === 'POST' && m) {
      const body = await readBody(req, 4096);
      let by = 'unnamed responder';
      try {
        const j =
          body && body.length ? (JSON.parse(body.toString('utf8')) as { by?: unknown }) : {};
        if (typeof j.by === 'string' && j.by.trim()) by = j.by.trim().slice(0, 200);
      } catch {
        return send(res, 400, { error: 'the body must be JSON like {"by":"alice@host"}' });
      }
      const from = req.socket.remoteAddress ? ` from ${req.socket.remoteAddress}` : '';
      const ok = h.decide(
        m[1],
        m[2] === 'approve' ? 'yes' : 'skip',
        `${by} (cirt ${m[2]} via the service API${from})`,
      );
      return ok
        ? send(res, 200, { id: m[1], decision: m[2] })
        : send(res, 404, { error: `no pending step ${m[1]} (answered, timed out, or never)` });
    }
    return refuse(req, res, 404, {
      error: 'not found: POST / takes alerts; GET /healthz, /metrics, /pending',
    });
  };
  const alert = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    t0: number,
    c: ServeConfig,
  ): Promise<void> => {
    const limit = c.limits.body;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      h.metrics.refuse('too-large');
      return refuse(req, res, 413, { error: `body larger than ${limit} bytes` });
    }
    const open = h.accepting();
    if (!open.ok) {
      h.metrics.refuse('unavailable');
      res.setHeader('retry-after', '5');
      return refuse(req, res, 503, { error: open.why });
    }
    const body = await readBody(req, limit);
    if (!body) {
      h.metrics.refuse('too-large');
      return refuse(req, res, 413, { error: `body larger than ${limit} bytes` });
    }
    const from = `HTTP POST from ${req.socket.remoteAddress ?? 'unix socket'}`;
    const r = h.take(body, from, t0);
    if (r.kind === 'bad') {
      h.metrics.refuse('bad-alert');
      return send(res, 400, { error: r.message });
    }
    if (r.kind === 'ignored') return send(res, 202, { id: null, status: 'ignored', reason: r.why });
    return send(res, 202, { id: r.alert.id, status: 'accepted' });
  };

  const server = cfg.tls
    ? https.createServer(
        {
          cert: cfg.tls.cert,
          key: cfg.tls.key,
          ...(cfg.tls.clientCa
            ? { ca: cfg.tls.clientCa, requestCert: true, rejectUnauthorized: true }
            : {}),
        },
        handler,
      )
    : http.createServer(handler);
  server.headersTimeout = cfg.limits.header_timeout;
  server.requestTimeout = cfg.limits.request_timeout;
  return server;
}

/** Listens on the configured address; a unix socket is made 0600 (only its owner may send). */
export async function listen(server: http.Server, cfg: ServeConfig): Promise<string> {
  const l = cfg.listen;
  if (l.kind === 'unix') {
    // A socket left by a service that died would refuse the bind: remove it only if it is a socket.
    try {
      if (fs.lstatSync(l.path).isSocket()) fs.unlinkSync(l.path);
    } catch {
      // Not there.
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (l.kind === 'unix') server.listen(l.path, done);
    else server.listen(l.port, l.host, done);
  });
  if (l.kind === 'unix') {
    fs.chmodSync(l.path, 0o600);
    return l.text;
  }
  const a = server.address() as AddressInfo;
  return `${cfg.tls ? 'https' : 'http'}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
