import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { makeRecipient, startLocalTsa, type LocalTsa } from '../helpers/local-tsa.js';
import { runCli } from '../helpers/run-cli.js';

jest.setTimeout(120_000);

/**
 * The signer, the trusted time and the encrypted bundle, end to end without an engine: a kept key
 * (`cirt keys`), a real RFC 3161 authority on loopback (openssl ts -reply), CMS to a recipient's
 * certificate; then the auditor's stock openssl commands and `cirt verify` with trusted keys.
 */
describe('sealing with a kept key, a trusted time and encryption; verifying as an auditor', () => {
  let tmp: string;
  let env: NodeJS.ProcessEnv;
  let tsa: LocalTsa;
  let recipient: { cert: string; key: string };
  const casesDir = (): string => path.join(tmp, 'cases');
  const id = 'trust-1';
  const run = (argv: string[]) => runCli(argv, { cwd: tmp, env });

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-trust-'));
    env = { ...process.env, HOME: path.join(tmp, 'home'), XDG_CONFIG_HOME: path.join(tmp, 'xdg') };
    tsa = await startLocalTsa(path.join(tmp, 'tsa'));
    recipient = makeRecipient(tmp, 'auditor');
    const info: CaseInfo = {
      schema: 'cirt.case/1',
      id,
      responder: 'alice@host',
      host: 'host',
      engine: {
        address: 'unix:///var/run/docker.sock',
        local: true,
        version: '20.10',
        apiVersion: '1.41',
      },
      tool: { name: 'cirt', version: '0' },
      target: {
        id: 'a'.repeat(64),
        name: 'victim',
        image: 'img',
        imageId: `sha256:${'b'.repeat(64)}`,
      },
      startedAt: new Date().toISOString(),
      status: 'open',
      runs: [],
    };
    const { store } = await CaseStore.openOrCreate(casesDir(), id, () => info);
    await store.writeArtifact(
      'container/inspect.json',
      JSON.stringify({ Config: { Env: ['AWS_SECRET_ACCESS_KEY=hunter2', 'PATH=/bin'] } }),
      {
        mediaType: 'application/json',
        source: `GET /containers/${'a'.repeat(64)}/json`,
        action: 'collect:inspect',
        step: 'inspect',
      },
    );
  });

  afterAll(async () => {
    await tsa?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('cirt keys init makes a 0600 key under XDG_CONFIG_HOME; list and export show its full fingerprint', async () => {
    const init = await run(['keys', 'init']);
    expect(init.code).toBe(0);
    const file = path.join(tmp, 'xdg', 'cirt', 'keys', 'responder.pem');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const fp = /sha256 ([0-9a-f]{64})/.exec(init.out)![1];
    expect((await run(['keys', 'list'])).out).toContain(fp);
    const exported = await run(['keys', 'export']);
    expect(exported.out).toMatch(
      /^# cirt key responder sha256 [0-9a-f]{64}\n-----BEGIN PUBLIC KEY-----/,
    );
    fs.writeFileSync(path.join(tmp, 'trusted.pem'), exported.out);
    // openssl reads the export as it is (the label line is skipped).
    const der = execFileSync('openssl', [
      'pkey',
      '-pubin',
      '-in',
      path.join(tmp, 'trusted.pem'),
      '-outform',
      'DER',
    ]);
    expect(execFileSync('sha256sum', { input: der }).toString().slice(0, 64)).toBe(fp);
    expect((await run(['keys', 'init'])).code).toBe(2);
  });

  test('cirt seal --tsa --encrypt-to: signed with the kept key, timestamped, encrypted, with metadata', async () => {
    const r = await run([
      'seal',
      '--case',
      id,
      '--cases-dir',
      casesDir(),
      '--tsa',
      tsa.url,
      '--encrypt-to',
      recipient.cert,
      '--case-number',
      'IR-2026-042',
      '--evidence-number',
      'E-7',
      '--responder',
      'Alice Example',
      '--json',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.key).toBe('kept');
    expect(out.timestamp.genTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(out.encrypted.path).toBe(path.join(casesDir(), `${id}.tar.gz.p7m`));
    const info = JSON.parse(fs.readFileSync(path.join(casesDir(), id, 'case.json'), 'utf8'));
    expect(info).toMatchObject({
      caseNumber: 'IR-2026-042',
      evidenceNumber: 'E-7',
      responder: 'Alice Example',
    });
    expect(info.seal).toMatchObject({ key: 'kept', tsa: tsa.url });
    const custody = fs.readFileSync(path.join(casesDir(), id, 'custody.jsonl'), 'utf8');
    expect(custody).toContain('"action":"case:metadata"');
    // report.md escapes Markdown's characters (`\_`): drop the escapes to compare.
    const report = fs
      .readFileSync(path.join(casesDir(), id, 'report.md'), 'utf8')
      .replace(/\\(.)/g, '$1');
    expect(report).toContain('IR-2026-042');
    expect(report).toContain('AWS_SECRET_ACCESS_KEY');
    expect(report).not.toContain('hunter2');
  });

  test('the auditor: openssl ts -verify and cms -decrypt, as docs/auditing.md shows them', () => {
    const inbox = fs.mkdtempSync(path.join(tmp, 'inbox-'));
    for (const f of [`${id}.tar.gz.p7m`, `${id}.tar.gz.p7m.sha256`, `${id}.tar.gz.sha256`])
      fs.copyFileSync(path.join(casesDir(), f), path.join(inbox, f));
    fs.copyFileSync(recipient.cert, path.join(inbox, 'auditor.pem'));
    fs.copyFileSync(recipient.key, path.join(inbox, 'auditor.key'));
    fs.copyFileSync(tsa.caCert, path.join(inbox, 'tsa-ca.pem'));
    const doc = fs.readFileSync(path.join(process.cwd(), 'docs/auditing.md'), 'utf8');
    const block = (heading: string): string => {
      const m = /```sh\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf(heading)));
      if (!m) throw new Error(`no sh block after ${heading}`);
      return m[1].replaceAll('CASE', id);
    };
    const script = `${block('## An encrypted bundle')}\n${block('A sealed case arrives')}\n${block('## A trusted time')}`;
    const out = execFileSync('sh', ['-ec', script], {
      cwd: inbox,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain('Verification: OK');
  });

  test('cirt verify: the trusted signer by name, the stamped time; a wrong key and a foreign TSA are ✖', async () => {
    const bundle = path.join(casesDir(), `${id}.tar.gz`);
    const ok = await run([
      'verify',
      bundle,
      '--trusted-keys',
      path.join(tmp, 'trusted.pem'),
      '--tsa-ca',
      tsa.caCert,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /✔ Ed25519 signature over SHA256SUMS: valid, signed by the trusted key "responder" \(sha256 [0-9a-f]{64}\)/,
    );
    expect(ok.out).toMatch(
      /✔ RFC 3161 timestamp: SHA256SUMS existed at \S+, stamped by "CN=cirt test TSA".*a trusted authority/,
    );

    const plain = await run(['verify', bundle]);
    expect(plain.code).toBe(0);
    expect(plain.out).toContain('no trusted key given: this shows only that the files agree');

    execFileSync('openssl', [
      'genpkey',
      '-algorithm',
      'ed25519',
      '-out',
      path.join(tmp, 'other.pem'),
    ]);
    const wrong = await run(['verify', bundle, '--pubkey', path.join(tmp, 'other.pem')]);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toMatch(
      /^ {2}✖ Ed25519 signature over SHA256SUMS: made by a key that is NOT trusted \(pub\.pem sha256 [0-9a-f]{64}\)$/m,
    );

    const foreign = await run(['verify', bundle, '--tsa-ca', tsa.otherCa]);
    expect(foreign.code).toBe(1);
    expect(foreign.out).toContain('SHA256SUMS.tsr: is not from a trusted time-stamping authority');
  });

  test('a TSA that does not answer fails the seal, and nothing is left posing as a seal', async () => {
    const store = await CaseStore.openOrCreate(casesDir(), 'trust-2', () => ({
      ...JSON.parse(fs.readFileSync(path.join(casesDir(), id, 'case.json'), 'utf8')),
      id: 'trust-2',
      status: 'open',
      seal: undefined,
    }));
    expect(store.created).toBe(true);
    await store.store.record({ actor: 'test', action: 'test:x', result: 'ok' });
    const r = await run([
      'seal',
      '--case',
      'trust-2',
      '--cases-dir',
      casesDir(),
      '--tsa',
      'http://127.0.0.1:9/tsa',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('did not timestamp SHA256SUMS');
    const root = path.join(casesDir(), 'trust-2');
    for (const f of ['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem', 'SHA256SUMS.tsr'])
      expect(fs.existsSync(path.join(root, f))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8')).status).not.toBe(
      'sealed',
    );
  });
});
