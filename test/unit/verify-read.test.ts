import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { readBundle, splitEntryName } from '../../src/evidence/verify-read.js';

describe('bundle entry names', () => {
  test.each([
    ['case/fs/diff.tar', { top: 'case', rel: 'fs/diff.tar' }],
    ['case/', { top: 'case', rel: '' }],
    ['/etc/passwd', null],
    ['case/../../etc/cron.d/x', null],
    ['case//x', null],
    ['case/./x', null],
    ['case\\..\\x', null],
  ])('%s', (name, want) => {
    expect(splitEntryName(name)).toEqual(want);
  });
});

describe('readBundle on a hostile archive', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-badbundle-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('links, absolute and escaping paths and a second top folder are reported; nothing is written', async () => {
    const pack = tar.pack();
    pack.entry({ name: 'case/', type: 'directory' });
    pack.entry({ name: 'case/SHA256SUMS' }, 'x\n');
    pack.entry({ name: 'case/link', type: 'symlink', linkname: '/etc/shadow' });
    pack.entry({ name: '../escape' }, 'y');
    pack.entry({ name: '/abs' }, 'z');
    pack.entry({ name: 'other/file' }, 'w');
    pack.finalize();
    const file = path.join(dir, 'bad.tar.gz');
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    fs.writeFileSync(file, zlib.gzipSync(Buffer.concat(chunks)));
    const before = fs.readdirSync(dir);
    const obs = await readBundle(file);
    expect(fs.readdirSync(dir)).toEqual(before);
    expect(obs.odd.map((o) => o.name)).toEqual(['case/link', '../escape', '/abs', 'other/file']);
    expect(obs.odd[0].why).toMatch(/symlink/);
    expect([...obs.files.keys()]).toEqual(['SHA256SUMS']);
    expect(obs.texts.get('SHA256SUMS')?.toString()).toBe('x\n');
    expect(obs.bundle?.bytes).toBe(fs.statSync(file).size);
  });

  test('a file that is not gzip is refused as unreadable input', async () => {
    const file = path.join(dir, 'plain.tar');
    fs.writeFileSync(file, 'not gzip');
    await expect(readBundle(file)).rejects.toThrow(/is not a gzip file/);
  });
});
