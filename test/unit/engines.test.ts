import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { parseEngineConfig, loadEngineConfig } from '../../src/app/engine-config.js';
import { resolveEngine, resolveEngines } from '../../src/app/engines.js';
import { endpointAddress } from '../../src/docker/connection.js';
import { UserError } from '../../src/errors.js';

/** A docker CLI config folder laid out as the CLI writes it (contexts/meta/<sha256>/meta.json, contexts/tls/<sha256>/docker/*.pem). */
function dockerConfig(
  root: string,
  o: {
    current?: string;
    contexts: { name: string; host: string; tls?: string[]; skip?: boolean }[];
  },
): string {
  const dir = path.join(root, 'docker');
  fs.mkdirSync(dir, { recursive: true });
  if (o.current)
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ currentContext: o.current }));
  for (const c of o.contexts) {
    const id = createHash('sha256').update(c.name).digest('hex');
    const meta = path.join(dir, 'contexts', 'meta', id);
    fs.mkdirSync(meta, { recursive: true });
    fs.writeFileSync(
      path.join(meta, 'meta.json'),
      JSON.stringify({
        Name: c.name,
        Metadata: { Description: 'test' },
        Endpoints: { docker: { Host: c.host, SkipTLSVerify: Boolean(c.skip) } },
      }),
    );
    if (c.tls) {
      const tls = path.join(dir, 'contexts', 'tls', id, 'docker');
      fs.mkdirSync(tls, { recursive: true });
      for (const f of c.tls) fs.writeFileSync(path.join(tls, f), `${c.name} ${f}`);
    }
  }
  return dir;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-engines-'));
let DOCKER_CONFIG: string;
const cwd = root;
const noConfig = path.join(root, 'xdg-none');

beforeAll(() => {
  DOCKER_CONFIG = dockerConfig(root, {
    current: 'prod',
    contexts: [
      { name: 'prod', host: 'tcp://10.1.0.1:2376', tls: ['ca.pem', 'cert.pem', 'key.pem'] },
      { name: 'lab', host: 'unix:///run/lab/docker.sock' },
      { name: 'same-as-default', host: 'unix:///var/run/docker.sock' },
      { name: 'loose', host: 'tcp://10.1.0.9:2376', skip: true },
    ],
  });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  HOME: root,
  XDG_CONFIG_HOME: noConfig,
  DOCKER_CONFIG,
  ...extra,
});

describe('one engine, as the docker CLI picks it', () => {
  test.each([
    ['nothing but currentContext: the current context', {}, {}, 'prod', 'tcp://10.1.0.1:2376'],
    [
      'DOCKER_CONTEXT beats currentContext',
      {},
      { DOCKER_CONTEXT: 'lab' },
      'lab',
      'unix:///run/lab/docker.sock',
    ],
    [
      'DOCKER_HOST beats DOCKER_CONTEXT (the default engine)',
      {},
      { DOCKER_CONTEXT: 'lab', DOCKER_HOST: 'tcp://10.9.9.9:2375' },
      'default',
      'tcp://10.9.9.9:2375',
    ],
    [
      '--context beats DOCKER_HOST',
      { context: 'lab' },
      { DOCKER_HOST: 'tcp://10.9.9.9:2375' },
      'lab',
      'unix:///run/lab/docker.sock',
    ],
    [
      '--host beats all of them',
      { host: 'unix:///tmp/x.sock' },
      { DOCKER_CONTEXT: 'lab' },
      'default',
      'unix:///tmp/x.sock',
    ],
    [
      'DOCKER_CONTEXT=default: DOCKER_HOST or the socket',
      {},
      { DOCKER_CONTEXT: 'default' },
      'default',
      'unix:///var/run/docker.sock',
    ],
  ])('%s', async (_what, sel, extra, name, host) => {
    const ref = await resolveEngine(sel, { env: env(extra), cwd });
    expect(ref.name).toBe(name);
    expect(ref.endpoint.host).toBe(host);
  });

  test('no config.json and no contexts: the local socket, named default', async () => {
    const ref = await resolveEngine({}, { env: { HOME: path.join(root, 'nobody') }, cwd });
    expect(ref).toMatchObject({
      name: 'default',
      endpoint: { host: 'unix:///var/run/docker.sock' },
    });
  });

  test('a context with TLS material: https with its three files, checked against its CA', async () => {
    const ref = await resolveEngine({ context: 'prod' }, { env: env(), cwd });
    const addr = endpointAddress(ref.endpoint);
    expect(addr.display).toBe('https://10.1.0.1:2376');
    expect(addr.local).toBe(false);
    expect(String(addr.options.ca)).toBe('prod ca.pem');
    expect(String(addr.options.cert)).toBe('prod cert.pem');
    expect(String(addr.options.key)).toBe('prod key.pem');
    expect(ref.endpoint.tls?.verify).toBe(true);
  });

  test('SkipTLSVerify: TLS without checking the certificate', async () => {
    const ref = await resolveEngine({ context: 'loose' }, { env: env(), cwd });
    expect(ref.endpoint.tls).toEqual({ verify: false });
    const addr = endpointAddress(ref.endpoint);
    expect(addr.display).toBe('https://10.1.0.9:2376');
    expect(
      (addr.options as { agent?: { options: { rejectUnauthorized?: boolean } } }).agent?.options
        .rejectUnauthorized,
    ).toBe(false);
  });

  test('--host with --context is refused, as the docker CLI does', async () => {
    const err = await resolveEngine(
      { host: 'unix:///x', context: 'lab' },
      { env: env(), cwd },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(/either specify --host or --context, not both/);
  });

  test('an unknown --context is exit 2 and lists the names there are', async () => {
    const err = await resolveEngine({ context: 'nope' }, { env: env(), cwd }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toBe('No engine named "nope" (from --context)');
    expect((err as UserError).hint).toMatch(/default, lab, loose, prod/);
  });

  test('a currentContext that is not in the store is an error naming config.json', async () => {
    const dir = dockerConfig(path.join(root, 'dangling'), { current: 'gone', contexts: [] });
    const err = await resolveEngine(
      {},
      { env: { HOME: root, XDG_CONFIG_HOME: noConfig, DOCKER_CONFIG: dir }, cwd },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toContain(`(from currentContext of ${dir}/config.json)`);
  });

  test('a meta.json in a folder that is not the sha256 of its name is refused', async () => {
    const dir = dockerConfig(path.join(root, 'moved'), {
      contexts: [{ name: 'a', host: 'unix:///a' }],
    });
    const id = createHash('sha256').update('a').digest('hex');
    const other = createHash('sha256').update('b').digest('hex');
    fs.renameSync(
      path.join(dir, 'contexts', 'meta', id),
      path.join(dir, 'contexts', 'meta', other),
    );
    const err = await resolveEngine(
      { context: 'b' },
      { env: { HOME: root, XDG_CONFIG_HOME: noConfig, DOCKER_CONFIG: dir }, cwd },
    ).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/not the sha256 of its Name "a"/);
  });
});

describe('several engines', () => {
  test('all: default first, contexts by name, one entry per endpoint', async () => {
    const refs = await resolveEngines({ engines: 'all' }, { env: env(), cwd });
    expect(refs.map((r) => r.name)).toEqual(['default', 'lab', 'loose', 'prod']);
    // same-as-default is the local socket again: folded into default, not listed twice.
    expect(refs[0].aliases).toEqual(['same-as-default']);
  });

  test('a,b in the order given; --engines with --context is refused', async () => {
    const refs = await resolveEngines({ engines: 'prod, lab' }, { env: env(), cwd });
    expect(refs.map((r) => r.name)).toEqual(['prod', 'lab']);
    await expect(
      resolveEngines({ engines: 'all', context: 'lab' }, { env: env(), cwd }),
    ).rejects.toThrow(/goes with neither --host nor --context/);
    await expect(resolveEngines({ engines: 'all,lab' }, { env: env(), cwd })).rejects.toThrow(
      /mixes "all"/,
    );
  });

  test("cirt's config adds engines, its TLS paths taken from the file's folder, and wins over a context of the same name", async () => {
    const file = path.join(root, 'cfg', 'config.yaml');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      [
        'engines:',
        '  - name: edge',
        '    host: tcp://127.0.0.1:23760',
        '    tls: { ca: certs/ca.pem, cert: certs/cert.pem, key: certs/key.pem }',
        '  - name: lab',
        '    host: unix:///run/other/docker.sock',
        '',
      ].join('\n'),
    );
    const refs = await resolveEngines({ engines: 'all', config: file }, { env: env(), cwd });
    expect(refs.map((r) => r.name)).toEqual(['default', 'loose', 'prod', 'edge', 'lab']);
    const edge = refs.find((r) => r.name === 'edge');
    expect(edge?.endpoint.tls).toEqual({
      ca: path.join(root, 'cfg', 'certs', 'ca.pem'),
      cert: path.join(root, 'cfg', 'certs', 'cert.pem'),
      key: path.join(root, 'cfg', 'certs', 'key.pem'),
      verify: true,
    });
    expect(edge?.from).toBe(`${file}:2`);
    const lab = await resolveEngine({ context: 'lab' }, { env: env({ CIRT_CONFIG: file }), cwd });
    expect(lab.endpoint.host).toBe('unix:///run/other/docker.sock');
  });
});

describe("cirt's config file: every problem with file:line:col", () => {
  test('unknown keys, a bad name and a missing host, all at once', () => {
    const text = [
      'engines:', // 1
      '  - name: ok', // 2
      '    host: unix:///a', // 3
      '    tsl: {}', // 4
      '  - name: -bad', // 5
      '    host: unix:///b', // 6
      '  - name: ok', // 7
      '    host: unix:///c', // 8
      '  - name: nohost', // 9
      'extra: 1', // 10
    ].join('\n');
    const { problems } = parseEngineConfig(text, 'c.yaml');
    const lines = problems.map((p) => `${p.line}:${p.col} ${p.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^4:5 unknown key "tsl" in engines\.0$/),
        expect.stringMatching(/^5:11 "engines\.1\.name": an engine name is/),
        expect.stringMatching(/^9:5 "engines\.3\.host": /),
        expect.stringMatching(/^10:1 unknown key "extra"$/),
      ]),
    );
  });

  test('a duplicate name is reported at the second one', () => {
    const { problems } = parseEngineConfig(
      'engines:\n  - name: a\n    host: unix:///a\n  - name: a\n    host: unix:///b\n',
      'c.yaml',
    );
    expect(problems).toEqual([
      { file: 'c.yaml', line: 4, col: 11, message: 'duplicate engine name "a" (also line 2)' },
    ]);
  });

  test('"default" is not a name the config may take', () => {
    const { problems } = parseEngineConfig(
      'engines:\n  - name: default\n    host: unix:///a\n',
      'c.yaml',
    );
    expect(problems[0]).toMatchObject({ line: 2, col: 11 });
  });

  test('the default location may be absent; a file named with --config or CIRT_CONFIG must exist', () => {
    expect(loadEngineConfig(undefined, { HOME: path.join(root, 'nobody') }, cwd).engines).toEqual(
      [],
    );
    expect(() => loadEngineConfig('missing.yaml', {}, cwd)).toThrow(
      /Cannot read cirt's config .*missing\.yaml/,
    );
    expect(() => loadEngineConfig(undefined, { CIRT_CONFIG: 'missing.yaml' }, cwd)).toThrow(
      UserError,
    );
  });

  test('a broken config named explicitly is said even when no name needs it', async () => {
    const file = path.join(root, 'broken.yaml');
    fs.writeFileSync(file, 'engines: [\n');
    await expect(
      resolveEngine({ config: file, host: 'unix:///x' }, { env: env(), cwd }),
    ).rejects.toThrow(/problem.* in cirt's config:\n.*broken\.yaml:\d+:\d+:/);
  });
});
