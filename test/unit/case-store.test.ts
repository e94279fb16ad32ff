import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CaseStore } from '../../src/evidence/case-store.js';
import { caseFile } from '../../src/evidence/paths.js';
import type { CaseInfo } from '../../src/evidence/types.js';

const info = (id: string): CaseInfo => ({
  schema: 'cirt.case/1',
  id,
  responder: 't@h',
  host: 'h',
  engine: { address: 'unix:///x', local: true, version: '1', apiVersion: '1.41' },
  tool: { name: 'cirt', version: '0' },
  target: { id: 'abc', name: 'n', image: 'i', imageId: 'sha256:0' },
  startedAt: new Date().toISOString(),
  status: 'open',
  runs: [],
});
const meta = { mediaType: 'text/plain', source: 'test', action: 'test:x', step: 's' };

async function newStore(): Promise<CaseStore> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-store-'));
  return (await CaseStore.openOrCreate(dir, 'c1', () => info('c1'))).store;
}

describe('case store', () => {
  test('Given a streamed artifact, its manifest hash and size are those of the bytes on disk', async () => {
    const store = await newStore();
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.alloc(10_000, i));
    const entry = await store.writeArtifact('logs/x.log', Readable.from(chunks), meta);
    const disk = fs.readFileSync(path.join(store.root, 'logs/x.log'));
    expect(entry.bytes).toBe(500_000);
    expect(entry.sha256).toBe(createHash('sha256').update(disk).digest('hex'));
    expect(entry.complete).toBe(true);
    const manifest = JSON.parse(fs.readFileSync(path.join(store.root, 'manifest.json'), 'utf8'));
    expect(manifest.artifacts[0]).toMatchObject({ path: 'logs/x.log', sha256: entry.sha256 });
  });

  test('A re-run never overwrites: the second artifact of the same name gets a suffix', async () => {
    const store = await newStore();
    await store.writeArtifact('net/a.json', '1', meta);
    const second = await store.writeArtifact('net/a.json', '2', meta);
    expect(second.path).toBe('net/a-2.json');
    expect(fs.readFileSync(path.join(store.root, 'net/a.json'), 'utf8')).toBe('1');
  });

  test('A source failing midway keeps what arrived, hashed, marked incomplete', async () => {
    const store = await newStore();
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('partial data');
      throw new Error('engine hung up');
    }
    const entry = await store.writeArtifact('fs/x.tar', Readable.from(broken()), meta);
    expect(entry.complete).toBe(false);
    expect(entry.error).toMatch(/engine hung up/);
    expect(entry.sha256).toBe(createHash('sha256').update('partial data').digest('hex'));
  });

  test('A streamed artifact closed with the error that cut it short is kept whole on disk, marked incomplete', async () => {
    const store = await newStore();
    const h = await store.artifact('fs/diff.tar', meta);
    h.stream.write(Buffer.alloc(70_000, 1));
    h.stream.end();
    const entry = await h.done(new Error('archive broke off'));
    expect(entry).toMatchObject({ complete: false, error: 'archive broke off', bytes: 70_000 });
    expect(entry.sha256).toBe(
      createHash('sha256')
        .update(fs.readFileSync(path.join(store.root, 'fs/diff.tar')))
        .digest('hex'),
    );
    const clean = await store.artifact('fs/ok.tar', meta);
    clean.stream.end('x');
    expect(await clean.done()).toMatchObject({ complete: true });
  });

  test.each(['../x', '/etc/passwd', 'a/../../b', 'a//b', '', 'a/.hidden/../b', 'x\ny'])(
    'refuses artifact path %j',
    (rel) => {
      expect(() => caseFile('/tmp/case', rel)).toThrow();
    },
  );

  test('A planted symlink in the case folder is never followed', async () => {
    const store = await newStore();
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-outside-'));
    fs.symlinkSync(outside, path.join(store.root, 'evil'));
    await expect(store.writeArtifact('evil/x.txt', 'data', meta)).rejects.toThrow(
      /outside the case folder/,
    );
    fs.symlinkSync(path.join(outside, 'f'), path.join(store.root, 'link.txt'));
    // A dangling symlink occupies the name: the artifact gets another name and nothing lands outside.
    const entry = await store.writeArtifact('link.txt', 'data', meta);
    expect(entry.path).toBe('link-2.txt');
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  test('After sealing, nothing can be added and custody is refused', async () => {
    const store = await newStore();
    store.markSealed();
    await expect(store.writeArtifact('a.txt', 'x', meta)).rejects.toThrow(/sealed/);
    await expect(store.record({ actor: 't', action: 'x', result: 'info' })).rejects.toThrow(
      /sealed/,
    );
  });
});
