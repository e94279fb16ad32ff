import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

/**
 * A real RFC 3161 authority on loopback for tests: a CA and a time-stamping certificate made with
 * openssl now, and `openssl ts -reply` answering each POST behind a tiny HTTP server.
 */
export interface LocalTsa {
  url: string;
  caCert: string;
  /** A CA that did not issue the TSA's certificate (for the "untrusted authority" case). */
  otherCa: string;
  close(): Promise<void>;
}

const ssl = (dir: string, args: string[]): void => {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
};

export async function startLocalTsa(dir: string): Promise<LocalTsa> {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'tsa.ext'),
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n',
  );
  for (const ca of ['ca', 'other-ca'])
    ssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${ca}.key`,
      '-out',
      `${ca}.pem`,
      '-days',
      '2',
      '-subj',
      `/CN=cirt test ${ca}`,
    ]);
  ssl(dir, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'tsa.key',
    '-out',
    'tsa.csr',
    '-subj',
    '/CN=cirt test TSA',
  ]);
  ssl(dir, [
    'x509',
    '-req',
    '-in',
    'tsa.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'tsa.pem',
    '-days',
    '2',
    '-extfile',
    'tsa.ext',
  ]);
  fs.writeFileSync(path.join(dir, 'serial'), '01\n');
  fs.writeFileSync(
    path.join(dir, 'tsa.cnf'),
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `dir = ${dir}`,
      'serial = $dir/serial',
      'signer_cert = $dir/tsa.pem',
      'certs = $dir/tsa.pem',
      'signer_key = $dir/tsa.key',
      'signer_digest = sha256',
      'default_policy = 1.2.3.4.1',
      'digests = sha256',
      'accuracy = secs:1',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const q = path.join(dir, `q-${Date.now()}-${Math.random()}.tsq`);
      fs.writeFileSync(q, Buffer.concat(parts));
      const child = spawn(
        'openssl',
        ['ts', '-reply', '-config', path.join(dir, 'tsa.cnf'), '-queryfile', q],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      const out: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.on('close', (code) => {
        fs.rmSync(q, { force: true });
        if (code !== 0) {
          res.writeHead(500).end();
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/timestamp-reply' })
          .end(Buffer.concat(out));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/tsa`,
    caCert: path.join(dir, 'ca.pem'),
    otherCa: path.join(dir, 'other-ca.pem'),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** An RSA key and self-signed certificate for a CMS recipient. */
export function makeRecipient(dir: string, name: string): { cert: string; key: string } {
  ssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
  ]);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}
