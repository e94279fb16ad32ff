import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import tar from 'tar-stream';
import { runCommand } from '../../src/cli/commands/run.js';
import { main } from '../../src/cli/main.js';
import type { IndexLine } from '../../src/evidence/diff-writer.js';
import { PostSealCustody, POST_SEAL_FILE } from '../../src/evidence/post-seal-custody.js';
import { stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(300_000);

function sink(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  return {
    stream: new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(Buffer.from(c)), cb()) }),
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}

async function cirt(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  const s = sink();
  const code = await main(args, {
    out: s.stream,
    err: s.stream,
    interactive: false,
    env: process.env,
    cwd,
  });
  return { code, out: s.text() };
}

const jsonl = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
const sh = (script: string, cwd: string): string =>
  execFileSync('sh', ['-c', script], { cwd, encoding: 'utf8' });

/** The file read back from the container through the archive endpoint, hashed by tar-stream (an independent parser). */
async function readBackSha(docker: Docker, id: string, file: string): Promise<string> {
  const stream = await docker.getContainer(id).getArchive({ path: file });
  const extract = tar.extract();
  let digest = '';
  extract.on('entry', (header, body, next) => {
    const h = createHash('sha256');
    body.on('data', (c: unknown) => h.update(c as Buffer));
    body.on('end', () => {
      if (header.type === 'file') digest = h.digest('hex');
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', resolve);
    extract.on('error', reject);
    stream.pipe(extract);
  });
  return digest;
}

function flipByte(file: string, at = 0.5): void {
  const b = fs.readFileSync(file);
  const i = Math.floor(b.length * at);
  b[i] ^= 0x01;
  fs.writeFileSync(file, b);
}

describe('evidence of the demo compromise: collect, seal, verify', () => {
  let docker: Docker;
  let lab: Lab;
  let tmp: string;
  let casesDir: string;
  const caseId = 'demo-case';
  let caseDir: string;
  let bundle: string;
  let extracted: string;

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix: uniquePrefix('evidence') });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-evidence-'));
    casesDir = path.join(tmp, 'cases');
    const playbook = path.join(tmp, 'collect.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: collect-and-seal',
        'steps:',
        '  - uses: collect:logs',
        '  - uses: collect:fs-diff',
        '  - uses: evidence:seal',
        '    always: true',
        '',
      ].join('\n'),
    );
    const out = sink();
    const r = await runCommand(
      { playbook, target: lab.victim.name, caseId, casesDir, yes: true },
      { out: out.stream, err: out.stream, interactive: false, env: process.env, cwd: tmp },
    );
    if (r.exitCode !== 0) throw new Error(`collect run failed: ${out.text()}`);
    caseDir = path.join(casesDir, caseId);
    bundle = path.join(casesDir, `${caseId}.tar.gz`);
    extracted = path.join(tmp, 'audit');
    fs.mkdirSync(extracted);
    execFileSync('tar', ['-xzf', bundle, '-C', extracted]);
  });

  afterAll(async () => {
    await lab?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test("the dropper's bytes are in fs/diff.tar; its indexed sha256 is the planted one and the container's own", async () => {
    const index = jsonl<IndexLine>(path.join(caseDir, 'fs/diff-index.jsonl'));
    const entry = index.find((e) => e.path === lab.dropperPath);
    expect(entry).toMatchObject({ type: 'file', sha256: lab.dropperSha256 });
    const inTar = sh(
      `tar --ignore-zeros -xOf fs/diff.tar .cache/kworkerd | sha256sum`,
      caseDir,
    ).split(' ')[0];
    expect(inTar).toBe(lab.dropperSha256);
    expect(await readBackSha(docker, lab.victim.id, lab.dropperPath)).toBe(lab.dropperSha256);
    // The coalescing: /tmp/.cache is one request (it holds the dropper and the C2 log).
    const requests = JSON.parse(
      fs.readFileSync(path.join(caseDir, 'fs/diff-requests.json'), 'utf8'),
    ) as { path: string }[];
    expect(requests.map((r) => r.path)).toContain('/tmp/.cache');
    expect(requests.map((r) => r.path)).not.toContain(lab.dropperPath);
    expect(requests.map((r) => r.path)).not.toContain('/tmp');
  });

  test('an auditor checks the bundle with tar, sha256sum and openssl only', () => {
    sh(`sha256sum -c --quiet ${caseId}.tar.gz.sha256`, casesDir);
    const dir = path.join(extracted, caseId);
    const sums = sh('sha256sum -c SHA256SUMS', dir);
    expect(sums).toMatch(/fs\/diff\.tar: OK/);
    expect(sums).not.toMatch(/FAILED/);
    expect(
      sh(
        'openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig',
        dir,
      ),
    ).toMatch(/Signature Verified Successfully/);
  });

  test('cirt verify accepts the untouched bundle and folder, and the right --pubkey', async () => {
    const b = await cirt(['verify', bundle], tmp);
    expect(b).toMatchObject({ code: 0 });
    expect(b.out).toMatch(/matches the \.sha256 beside it/);
    expect(
      (
        await cirt(
          ['verify', path.join(extracted, caseId), '--pubkey', path.join(caseDir, 'pub.pem')],
          tmp,
        )
      ).code,
    ).toBe(0);
  });

  const other = generateKeyPairSync('ed25519');
  const tampers: [string, (d: string) => void, RegExp][] = [
    [
      'a JSON artifact',
      (d) => flipByte(path.join(d, 'fs/changes.json')),
      /✖ fs\/changes\.json: sha256/,
    ],
    ['a log', (d) => flipByte(path.join(d, 'logs/stdout.log')), /✖ logs\/stdout\.log: sha256/],
    ['diff.tar', (d) => flipByte(path.join(d, 'fs/diff.tar'), 0.1), /✖ fs\/diff\.tar: sha256/],
    [
      'SHA256SUMS',
      (d) =>
        fs.writeFileSync(
          path.join(d, 'SHA256SUMS'),
          fs
            .readFileSync(path.join(d, 'SHA256SUMS'), 'utf8')
            .replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')),
        ),
      /✖ SHA256SUMS\.sig: is not a valid signature/,
    ],
    [
      'manifest.json',
      (d) =>
        fs.writeFileSync(
          path.join(d, 'manifest.json'),
          fs.readFileSync(path.join(d, 'manifest.json'), 'utf8').replace('"bytes": ', '"bytes": 1'),
        ),
      /✖ manifest\.json: sha256/,
    ],
    [
      'case.json',
      (d) =>
        fs.writeFileSync(
          path.join(d, 'case.json'),
          fs.readFileSync(path.join(d, 'case.json'), 'utf8').replace('"sealed"', '"complete"'),
        ),
      /✖ case\.json: sha256/,
    ],
    [
      'a deleted artifact',
      (d) => fs.rmSync(path.join(d, 'fs/deleted.json')),
      /✖ fs\/deleted\.json: is listed in SHA256SUMS \(line \d+\) but missing/,
    ],
    [
      'an added file',
      (d) => fs.writeFileSync(path.join(d, 'fs/planted.txt'), 'x'),
      /✖ fs\/planted\.txt: is not listed in SHA256SUMS/,
    ],
    [
      'an edited custody line',
      (d) => {
        const lines = fs.readFileSync(path.join(d, 'custody.jsonl'), 'utf8').split('\n');
        lines[1] = lines[1].replace(/"result":"[a-z]+"/, '"result":"noop"');
        fs.writeFileSync(path.join(d, 'custody.jsonl'), lines.join('\n'));
      },
      /✖ custody\.jsonl line 2: record was edited/,
    ],
    [
      'two custody lines reordered',
      (d) => {
        const lines = fs.readFileSync(path.join(d, 'custody.jsonl'), 'utf8').split('\n');
        [lines[1], lines[2]] = [lines[2], lines[1]];
        fs.writeFileSync(path.join(d, 'custody.jsonl'), lines.join('\n'));
      },
      /✖ custody\.jsonl line 2: chain broken/,
    ],
    [
      'the signature swapped (signed with another key)',
      (d) =>
        fs.writeFileSync(
          path.join(d, 'SHA256SUMS.sig'),
          sign(null, fs.readFileSync(path.join(d, 'SHA256SUMS')), other.privateKey),
        ),
      /✖ SHA256SUMS\.sig: is not a valid signature/,
    ],
    [
      'signature and pub.pem both swapped',
      (d) => {
        fs.writeFileSync(
          path.join(d, 'SHA256SUMS.sig'),
          sign(null, fs.readFileSync(path.join(d, 'SHA256SUMS')), other.privateKey),
        );
        fs.writeFileSync(
          path.join(d, 'pub.pem'),
          other.publicKey.export({ type: 'spki', format: 'pem' }),
        );
      },
      /✖ pub\.pem: is not the key the case was sealed with/,
    ],
    [
      'report.html',
      (d) => fs.appendFileSync(path.join(d, 'report.html'), '<script>x</script>'),
      /✖ report\.html: sha256/,
    ],
  ];

  test.each(tampers)(
    'tampering with %s is caught and named (case folder)',
    async (_what, tamper, culprit) => {
      const dir = path.join(fs.mkdtempSync(path.join(tmp, 't-')), caseId);
      fs.cpSync(path.join(extracted, caseId), dir, { recursive: true });
      tamper(dir);
      const r = await cirt(['verify', dir], tmp);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(culprit);
      expect(r.out).toMatch(/INVALID/);
    },
  );

  test.each([tampers[2], tampers[9], tampers[6]])(
    'tampering with %s is caught in a re-packed .tar.gz too',
    async (_what, tamper, culprit) => {
      const work = fs.mkdtempSync(path.join(tmp, 'r-'));
      fs.cpSync(path.join(extracted, caseId), path.join(work, caseId), { recursive: true });
      tamper(path.join(work, caseId));
      execFileSync('tar', ['-czf', `${caseId}.tar.gz`, caseId], { cwd: work });
      const r = await cirt(['verify', path.join(work, `${caseId}.tar.gz`)], tmp);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(culprit);
    },
  );

  test('a bundle changed after archiving fails its .sha256 and its gzip check', async () => {
    const work = fs.mkdtempSync(path.join(tmp, 'g-'));
    const copy = path.join(work, `${caseId}.tar.gz`);
    fs.copyFileSync(bundle, copy);
    fs.copyFileSync(`${bundle}.sha256`, `${copy}.sha256`);
    flipByte(copy, 0.5);
    const r = await cirt(['verify', copy], tmp);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      new RegExp(`✖ ${caseId}\\.tar\\.gz: (sha256 .* does not match|is corrupt)`),
    );
  });

  test('records made after sealing (cirt release) are checked apart from the sealed evidence', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(tmp, 'p-')), caseId);
    fs.cpSync(path.join(extracted, caseId), dir, { recursive: true });
    await PostSealCustody.open(dir).append({
      actor: 'test',
      action: 'release',
      result: 'ok',
      message: 'containment undone',
    });
    const ok = await cirt(['verify', dir], tmp);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(
      /custody\.post-seal\.jsonl: 1 record\(s\) made after sealing — not part of the sealed evidence/,
    );
    const file = path.join(dir, POST_SEAL_FILE);
    fs.writeFileSync(
      file,
      fs.readFileSync(file, 'utf8').replace('containment undone', 'nothing happened'),
    );
    const bad = await cirt(['verify', dir], tmp);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/✖ custody\.post-seal\.jsonl line 1: record was edited/);
  });

  test('another --pubkey is invalid (1); unreadable input is exit 2', async () => {
    const keyFile = path.join(tmp, 'other.pem');
    fs.writeFileSync(keyFile, other.publicKey.export({ type: 'spki', format: 'pem' }));
    const r = await cirt(['verify', bundle, '--pubkey', keyFile], tmp);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/✖ pub\.pem: is not a trusted key: its fingerprint is [0-9a-f]{64}/);
    // The ✖ is on the signature line itself, with both full fingerprints.
    expect(r.out).toMatch(
      /^ {2}✖ Ed25519 signature over SHA256SUMS: made by a key that is NOT trusted \(pub\.pem sha256 [0-9a-f]{64}\)$/m,
    );
    expect(r.out).toMatch(/trusted: "the --pubkey key" sha256 [0-9a-f]{64}$/m);
    fs.writeFileSync(path.join(tmp, 'garbage.tar.gz'), 'not a bundle at all');
    expect(await cirt(['verify', path.join(tmp, 'garbage.tar.gz')], tmp)).toMatchObject({
      code: 2,
    });
    expect(await cirt(['verify', path.join(tmp, 'no-such-bundle.tar.gz')], tmp)).toMatchObject({
      code: 2,
    });
    fs.mkdirSync(path.join(tmp, 'empty'));
    expect(await cirt(['verify', path.join(tmp, 'empty')], tmp)).toMatchObject({ code: 2 });
  });

  test('collect:export streams the whole filesystem, hashed and indexed', async () => {
    const playbook = path.join(tmp, 'export.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: export',
        'steps:',
        '  - uses: collect:export',
        '    with:',
        '      index: true',
        '',
      ].join('\n'),
    );
    const r = await runCommand(
      { playbook, target: lab.victim.name, caseId: 'export-case', casesDir, yes: true },
      { out: sink().stream, err: sink().stream, interactive: false, env: process.env, cwd: tmp },
    );
    expect(r.exitCode).toBe(0);
    const dir = path.join(casesDir, 'export-case');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
      artifacts: { path: string; sha256: string }[];
    };
    const exp = manifest.artifacts.find((a) => a.path === 'fs/export.tar')!;
    expect(sh('sha256sum fs/export.tar', dir).split(' ')[0]).toBe(exp.sha256);
    const index = jsonl<IndexLine>(path.join(dir, 'fs/export-index.jsonl'));
    expect(index.find((e) => e.path === lab.dropperPath)?.sha256).toBe(lab.dropperSha256);
    expect(sh('tar -tf fs/export.tar | wc -l', dir).trim()).toBe(String(index.length));
  });

  test('a run that was interrupted before anything ran is sealed afterwards with `cirt seal`', async () => {
    const playbook = path.join(tmp, 'interrupted.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: interrupted',
        'steps:',
        '  - uses: collect:fs-diff',
        '  - uses: evidence:seal',
        '    always: true',
        '',
      ].join('\n'),
    );
    const ac = new AbortController();
    ac.abort(new Error('interrupted by the user (SIGINT)'));
    const r = await runCommand(
      {
        playbook,
        target: lab.victim.name,
        caseId: 'cut-short',
        casesDir,
        yes: true,
        signal: ac.signal,
      },
      { out: sink().stream, err: sink().stream, interactive: false, env: process.env, cwd: tmp },
    );
    expect(r.status).toBe('aborted');
    expect(fs.existsSync(path.join(casesDir, 'cut-short.tar.gz'))).toBe(false);
    const sealed = await cirt(['--cases-dir', casesDir, 'seal', '--case', 'cut-short'], tmp);
    expect(sealed).toMatchObject({ code: 0 });
    expect(sealed.out).toMatch(/sealed case cut-short/);
    expect((await cirt(['verify', path.join(casesDir, 'cut-short.tar.gz')], tmp)).code).toBe(0);
    expect(fs.readFileSync(path.join(casesDir, 'cut-short', 'report.md'), 'utf8')).toMatch(
      /run:end.*interrupted/,
    );
    const again = await cirt(['--cases-dir', casesDir, 'seal', '--case', 'cut-short'], tmp);
    expect(again).toMatchObject({ code: 0 });
    expect(again.out).toMatch(/already sealed/);
  });

  test('--sign-key: an Ed25519 key signs the case; any other key is refused before anything is touched', async () => {
    const rsa = path.join(tmp, 'rsa.pem');
    fs.writeFileSync(
      rsa,
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      }),
    );
    const playbook = path.join(tmp, 'seal-only.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: seal-only',
        'steps:',
        '  - uses: collect:fs-diff',
        '  - uses: evidence:seal',
        '',
      ].join('\n'),
    );
    const bad = await cirt(
      [
        '--cases-dir',
        casesDir,
        'run',
        playbook,
        '-t',
        lab.victim.name,
        '--case',
        'rsa-case',
        '--sign-key',
        rsa,
        '--yes',
      ],
      tmp,
    );
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/rsa\.pem holds a rsa key, not an Ed25519 key/);
    expect(fs.existsSync(path.join(casesDir, 'rsa-case'))).toBe(false);

    const ed = generateKeyPairSync('ed25519');
    const keyFile = path.join(tmp, 'ed.pem');
    fs.writeFileSync(keyFile, ed.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const good = await cirt(
      [
        '--cases-dir',
        casesDir,
        'run',
        playbook,
        '-t',
        lab.victim.name,
        '--case',
        'ed-case',
        '--sign-key',
        keyFile,
        '--yes',
      ],
      tmp,
    );
    expect(good.code).toBe(0);
    expect(
      (await cirt(['verify', path.join(casesDir, 'ed-case.tar.gz'), '--pubkey', keyFile], tmp))
        .code,
    ).toBe(0);
    expect(fs.readFileSync(path.join(casesDir, 'ed-case', 'pub.pem'), 'utf8')).toBe(
      ed.publicKey.export({ type: 'spki', format: 'pem' }),
    );
  });
});
