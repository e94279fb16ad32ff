import path from 'node:path';

export type ListenAddress =
  | { kind: 'tcp'; host: string; port: number; text: string }
  | { kind: 'unix'; path: string; text: string };

/**
 * `127.0.0.1:2803`, `[::1]:2803`, `0.0.0.0:2803`, `unix:/run/cirt/serve.sock` or an absolute
 * path: parsed, or a message saying what is wrong.
 */
export function parseListen(text: string, dir: string): ListenAddress | string {
  const t = text.trim();
  if (t.startsWith('unix:') || t.startsWith('/') || t.startsWith('./')) {
    const p = t.startsWith('unix:') ? t.slice('unix:'.length).replace(/^\/\/(?=\/)/, '') : t;
    if (!p) return `"${text}" names no socket path`;
    const abs = path.resolve(dir, p);
    return { kind: 'unix', path: abs, text: `unix:${abs}` };
  }
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(t);
  if (!m) return `"${text}" is not host:port, [ipv6]:port or unix:/path`;
  const port = Number(m[3]);
  if (port > 65535) return `port ${m[3]} is out of range (0-65535; 0: any free port)`;
  const host = m[1] ?? m[2];
  return { kind: 'tcp', host, port, text: m[1] ? `[${host}]:${port}` : `${host}:${port}` };
}
