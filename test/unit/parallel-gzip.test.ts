import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { writeBundle } from '../../src/evidence/archive.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import { incompressible, ParallelGzip } from '../../src/evidence/parallel-gzip.js';
import { sealCase } from '../../src/evidence/seal.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { sealReport } from '../../src/report/seal-report.js';
import { runCli } from '../helpers/run-cli.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-pgzip-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Text that compresses as logs do (varying numbers), `bytes` long. */
function logText(bytes: number): Buffer {
  const lines: string[] = [];
  let n = 0;
  for (let i = 0; n < bytes; i++) {
    const l = `2026-12-01T12:00:${String(i % 60).padStart(2, '0')}Z GET /items/${(i * 7919) % 100000} 200 ${(i * 31) % 65536}\n`;
    lines.push(l);
    n += l.length;
  }
  return Buffer.from(lines.join('')).subarray(0, bytes);
}

async function compress(
  input: Buffer,
  o: ConstructorParameters<typeof ParallelGzip>[0],
): Promise<{ out: Buffer; z: ParallelGzip }> {
  const z = new ParallelGzip(o);
  const parts: Buffer[] = [];
  // Input in uneven pieces, as a tar stream arrives.
  const pieces = function* (): Generator<Buffer> {
    for (let i = 0; i < input.length;) {
      const n = Math.min(input.length - i, 1 + ((i * 2654435761) % 300_000));
      yield input.subarray(i, i + n);
      i += n;
    }
  };
  z.on('data', (c: Buffer) => parts.push(c));
  await pipeline(Readable.from(pieces()), z);
  return { out: Buffer.concat(parts), z };
}

describe('ParallelGzip: concatenated gzip members, in order, stored where nothing compresses', () => {
  test('Given text and random data over many members, gunzip and gzip -d give back the exact bytes', async () => {
    const input = Buffer.concat([logText(3 << 20), randomBytes(2 << 20), logText(1 << 20)]);
    const { out, z } = await compress(input, { level: 6, parallel: 3, memberBytes: 256 << 10 });
    expect(z.members.deflated + z.members.stored).toBe(Math.ceil(input.length / (256 << 10)));
    expect(z.members.stored).toBeGreaterThanOrEqual(6);
    expect(z.members.deflated).toBeGreaterThanOrEqual(14);
    expect(zlib.gunzipSync(out).equals(input)).toBe(true);
    const file = path.join(dir, 'mixed.gz');
    fs.writeFileSync(file, out);
    execFileSync('gzip', ['-t', file]);
    const viaGzip = execFileSync('gzip', ['-dc', file], { maxBuffer: 64 << 20 });
    expect(createHash('sha256').update(viaGzip).digest('hex')).toBe(
      createHash('sha256').update(input).digest('hex'),
    );
  });

  test('Given random data, it is stored: the output is barely larger than the input', async () => {
    const input = randomBytes(1 << 20);
    const { out, z } = await compress(input, { level: 9, memberBytes: 128 << 10 });
    expect(z.members).toEqual({ deflated: 0, stored: 8 });
    expect(out.length).toBeLessThan(input.length * 1.001 + 8 * 18);
    expect(zlib.gunzipSync(out).equals(input)).toBe(true);
  });

  test('Given compressible data, it is deflated, and an empty input gives an empty stream', async () => {
    expect(incompressible(logText(1 << 20))).toBe(false);
    expect(incompressible(randomBytes(1 << 20))).toBe(true);
    const { out } = await compress(logText(1 << 20), { level: 1 });
    expect(out.length).toBeLessThan((1 << 20) / 2);
    expect((await compress(Buffer.alloc(0), {})).out.length).toBe(0);
  });
});

const info = (id: string): CaseInfo => ({
  schema: 'cirt.case/1',
  id,
  responder: 't@h',
  host: 'h',
  engine: { address: 'unix:///x', local: true, version: '1', apiVersion: '1.41' },
  tool: { name: 'cirt', version: '0' },
  target: { id: 'abc', name: 'n', image: 'i', imageId: 'sha256:0' },
  startedAt: new Date().toISOString(),
  status: 'failed',
  runs: [],
});

describe('a sealed bundle of several gzip members stays a standard .tar.gz', () => {
  test('Given a case bigger than one member, gzip -t, tar -tzf, the auditor recipe and cirt verify accept the bundle', async () => {
    const { store } = await CaseStore.openOrCreate(dir, 'multi', () => info('multi'));
    const meta = { mediaType: 'application/octet-stream', source: 'test', action: 'test:x' };
    await store.writeArtifact('fs/random.bin', randomBytes(9 << 20), { ...meta, step: 's' });
    await store.writeArtifact('logs/app.log', logText(6 << 20), { ...meta, step: 's' });
    await store.record({ actor: 'a', action: 'run:start', result: 'info' });
    const r = await sealCase({
      store,
      actor: 'a',
      via: 'test',
      report: sealReport,
      writeReport: (rel, text, m) =>
        store.writeArtifact(rel, text, { ...m, action: 'evidence:seal', step: 'seal' }),
    });
    const bundle = r.bundle.path;
    // More than one member: a single-stream gzip would not test the concatenation.
    const raw = fs.readFileSync(bundle);
    const magic = Buffer.from([0x1f, 0x8b, 8]);
    let members = 0;
    for (let at = raw.indexOf(magic); at >= 0; at = raw.indexOf(magic, at + 1)) members++;
    expect(members).toBeGreaterThanOrEqual(3);
    // The log compressed to well under half, the random data stored (not grown).
    expect(raw.length).toBeLessThan((9 << 20) + (3 << 20));
    execFileSync('gzip', ['-t', bundle]);
    const listed = execFileSync('tar', ['-tzf', bundle]).toString();
    expect(listed).toContain('multi/fs/random.bin');
    const audit = fs.mkdtempSync(path.join(dir, 'audit-'));
    execFileSync(
      'sh',
      [
        '-c',
        `sha256sum -c --quiet multi.tar.gz.sha256 && tar -xzf multi.tar.gz -C "${audit}" && cd "${audit}/multi" && sha256sum -c --quiet SHA256SUMS && openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig`,
      ],
      { cwd: dir },
    );
    const v = await runCli(['verify', bundle]);
    expect(v.out).toContain('VALID');
    expect(v.code).toBe(0);
  });
});

describe('a full disk while the members are written', () => {
  const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-pgzip-full-'));
  beforeAll(() => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  });
  afterAll(() => {
    execFileSync('umount', [mnt]);
  });

  test('Given ENOSPC halfway through the bundle, writeBundle fails, names ENOSPC, and leaves no partial bundle', async () => {
    const root = path.join(mnt, 'full');
    fs.mkdirSync(root);
    // 2.5 MiB of random data is stored, not compressed: it cannot fit twice in 4 MiB.
    fs.writeFileSync(path.join(root, 'random.bin'), randomBytes(2.5 * (1 << 20)));
    const err = await writeBundle(root, { dirs: [], files: ['random.bin'] }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toContain('is full (ENOSPC)');
    expect(fs.readdirSync(mnt)).toEqual(['full']);
  });
});
