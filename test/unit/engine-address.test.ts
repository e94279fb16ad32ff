import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectEngine, resolveEngineAddress } from '../../src/docker/connection.js';
import { UserError } from '../../src/errors.js';

describe('resolveEngineAddress: like the docker CLI', () => {
  const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-certs-'));

  beforeAll(() => {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem'])
      fs.writeFileSync(path.join(certs, f), `contents of ${f}`);
  });

  afterAll(() => fs.rmSync(certs, { recursive: true, force: true }));

  test.each([
    [
      'nothing set: the default socket',
      undefined,
      {},
      'unix:///var/run/docker.sock',
      { socketPath: '/var/run/docker.sock' },
    ],
    [
      'DOCKER_HOST unix://',
      undefined,
      { DOCKER_HOST: 'unix:///run/other.sock' },
      'unix:///run/other.sock',
      { socketPath: '/run/other.sock' },
    ],
    ['a bare socket path', '/tmp/d.sock', {}, 'unix:///tmp/d.sock', { socketPath: '/tmp/d.sock' }],
    [
      'DOCKER_HOST tcp:// without TLS: port 2375',
      undefined,
      { DOCKER_HOST: 'tcp://10.0.0.5' },
      'tcp://10.0.0.5:2375',
      { host: '10.0.0.5', port: 2375, protocol: 'http' },
    ],
    [
      '--host beats DOCKER_HOST',
      'tcp://127.0.0.1:1234',
      { DOCKER_HOST: 'unix:///nope.sock' },
      'tcp://127.0.0.1:1234',
      { host: '127.0.0.1', port: 1234, protocol: 'http' },
    ],
    [
      'DOCKER_TLS_VERIFY=0 means no TLS',
      'tcp://h:2375',
      { DOCKER_TLS_VERIFY: '0' },
      'tcp://h:2375',
      { protocol: 'http' },
    ],
  ])('%s', (_what, host, env, display, options) => {
    const a = resolveEngineAddress(host, env as NodeJS.ProcessEnv);
    expect(a.display).toBe(display);
    expect(a.options).toMatchObject(options);
    expect(a.local).toBe(display.startsWith('unix://'));
  });

  test('an IPv6 host in brackets', () => {
    expect(resolveEngineAddress('tcp://[::1]:2375', {}).options).toMatchObject({
      host: '::1',
      port: 2375,
      protocol: 'http',
    });
  });

  test('DOCKER_TLS_VERIFY + DOCKER_CERT_PATH: https on 2376 with the three PEM files', () => {
    const a = resolveEngineAddress(undefined, {
      DOCKER_HOST: 'tcp://engine.example',
      DOCKER_TLS_VERIFY: '1',
      DOCKER_CERT_PATH: certs,
    });
    expect(a.display).toBe('https://engine.example:2376');
    expect(a.options).toMatchObject({ host: 'engine.example', port: 2376, protocol: 'https' });
    expect(String(a.options.ca)).toBe('contents of ca.pem');
    expect(String(a.options.cert)).toBe('contents of cert.pem');
    expect(String(a.options.key)).toBe('contents of key.pem');
  });

  test('TLS on but the certificates are missing: a user error naming the file', () => {
    const call = () =>
      resolveEngineAddress('tcp://h:2376', {
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: path.join(certs, 'nope'),
      });
    expect(call).toThrow(UserError);
    expect(call).toThrow(/nope\/ca\.pem cannot be read/);
  });

  test.each([['ssh://user@host'], ['tcp://'], ['unix://'], ['host:2375']])(
    '%s is refused with a hint',
    (raw) => {
      let err: unknown;
      try {
        resolveEngineAddress(raw, {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(2);
      expect((err as UserError).hint).toBeTruthy();
    },
  );
});

describe('connectEngine: an unreachable engine', () => {
  test('is a user error (exit 2) naming the address tried', async () => {
    // A port that was just free: nothing listens there.
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    const err = await connectEngine(`tcp://127.0.0.1:${port}`, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).message).toContain(
      `Cannot reach the Docker engine at tcp://127.0.0.1:${port}`,
    );
    // One line: the address, why, and what to check; no second hint line.
    expect((err as UserError).message).toMatch(/ECONNREFUSED.*check that the engine listens there/);
    expect((err as UserError).message).not.toContain('\n');
    expect((err as UserError).hint).toBeUndefined();
  });
});
