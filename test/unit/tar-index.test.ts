import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readNumber } from '../../src/evidence/tar-header.js';
import { TarIndexer, type TarEntry } from '../../src/evidence/tar-index.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** Hostile names as raw bytes, and their content. */
const FILES: [Buffer, Buffer][] = [
  [Buffer.from('plain.txt'), Buffer.from('hello\n')],
  [Buffer.from('new\nline'), Buffer.from('nl')],
  [Buffer.from('back\\slash | and space'), Buffer.from('bs')],
  [
    Buffer.from([0x62, 0x61, 0x64, 0xff, 0xfe, 0x2e, 0x62, 0x69, 0x6e]),
    Buffer.from([0, 1, 2, 255]),
  ],
  [Buffer.from(`${'L'.repeat(230)}.txt`), Buffer.from('long')],
  [Buffer.from('empty'), Buffer.alloc(0)],
  [Buffer.from('big.bin'), Buffer.alloc(300_000, 7)],
];

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tar-'));
  const src = path.join(dir, 'src');
  fs.mkdirSync(path.join(src, 'd'), { recursive: true });
  for (const [name, data] of FILES)
    fs.writeFileSync(Buffer.concat([Buffer.from(`${src}/d/`), name]), data);
  fs.symlinkSync('/etc/shadow', path.join(src, 'd', 'shadow-link'));
  fs.symlinkSync(
    Buffer.from([0x2e, 0x2e, 0x2f, 0xff]) as unknown as string,
    path.join(src, 'd', 'odd-link'),
  );
  // Sorted after plain.txt, so the archive holds plain.txt's bytes and this as a hard link to it.
  fs.linkSync(path.join(src, 'd', 'plain.txt'), path.join(src, 'd', 'zz-hard'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function gnuTar(format: string): Buffer {
  return execFileSync(
    'tar',
    ['-C', path.join(dir, 'src'), `--format=${format}`, '--sort=name', '-cf', '-', 'd'],
    { maxBuffer: 64 << 20 },
  );
}

function index(
  data: Buffer,
  chunk: number,
): { entries: TarEntry[]; end: string | null; indexer: TarIndexer } {
  const entries: TarEntry[] = [];
  const indexer = new TarIndexer((e) => entries.push(e));
  for (let i = 0; i < data.length; i += chunk) indexer.write(data.subarray(i, i + chunk));
  return { entries, end: indexer.end(), indexer };
}

const key = (b: Buffer): string => b.toString('latin1');

describe('TarIndexer', () => {
  test.each([
    ['pax', 1],
    ['pax', 511],
    ['pax', 65536],
    ['gnu', 7],
    ['gnu', 1 << 20],
  ])(
    '%s archive fed in %i-byte chunks: exact names, types, link targets, content hashes',
    (format, chunk) => {
      const { entries, end } = index(gnuTar(format), chunk);
      expect(end).toBeNull();
      const byName = new Map(entries.map((e) => [key(e.name), e]));
      for (const [name, data] of FILES) {
        const e = byName.get(key(Buffer.concat([Buffer.from('d/'), name])));
        expect(e).toMatchObject({ type: 'file', size: data.length, sha256: sha(data) });
      }
      expect(byName.get('d/')?.type ?? byName.get('d')?.type).toBe('directory');
      expect(byName.get('d/shadow-link')).toMatchObject({ type: 'symlink', sha256: null, size: 0 });
      expect(byName.get('d/shadow-link')?.linkname?.toString()).toBe('/etc/shadow');
      expect(
        byName.get('d/odd-link')?.linkname?.equals(Buffer.from([0x2e, 0x2e, 0x2f, 0xff])),
      ).toBe(true);
      expect(byName.get('d/zz-hard')?.type).toBe('link');
      expect(byName.get('d/zz-hard')?.linkname?.toString()).toBe('d/plain.txt');
      expect(entries).toHaveLength(FILES.length + 4);
    },
  );

  test('concatenated archives are read like tar --ignore-zeros, offsets point at each entry', () => {
    const a = gnuTar('pax');
    const b = gnuTar('gnu');
    const both = Buffer.concat([a, b]);
    const { entries, end } = index(both, 4096);
    expect(end).toBeNull();
    expect(entries).toHaveLength(2 * (FILES.length + 4));
    const second = entries[FILES.length + 4];
    expect(second.offset).toBeGreaterThanOrEqual(a.length);
    // Every offset is a header boundary in the combined stream.
    for (const e of entries) expect(e.offset % 512).toBe(0);
    // GNU tar itself lists the same number of entries with --ignore-zeros.
    const f = path.join(dir, 'both.tar');
    fs.writeFileSync(f, both);
    const listed = execFileSync('tar', ['--ignore-zeros', '-tf', f])
      .toString()
      .split('\n')
      .filter(Boolean);
    expect(listed.length).toBeGreaterThanOrEqual(entries.length);
  });

  test('a truncated stream and a corrupt header are reported, not hidden', () => {
    const data = gnuTar('pax');
    expect(index(data.subarray(0, data.length - 5000), 999).end).toMatch(/ends inside an entry/);
    const third = index(data, data.length).entries[3].offset;
    const bad = Buffer.from(data);
    bad[third + 10] ^= 0x01; // a name byte of a later header: its checksum no longer holds
    const r = index(bad, 512);
    expect(r.indexer.error).toMatch(new RegExp(`byte ${third}: bad header checksum`));
    expect(r.entries).toHaveLength(3);
  });

  test('numbers: octal, space/NUL padded, and GNU base-256', () => {
    const block = Buffer.alloc(512);
    block.write('0000644\0', 100, 'latin1');
    expect(readNumber(block, 100, 8)).toBe(0o644);
    const big = Buffer.alloc(512);
    big[124] = 0x80;
    big.writeUIntBE(10 * 2 ** 32, 124 + 6, 6);
    expect(readNumber(big, 124, 12)).toBe(10 * 2 ** 32);
  });
});
