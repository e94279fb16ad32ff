import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sortByBytes } from '../../src/collect/changes.js';
import { groupRequests } from '../../src/collect/fs-groups.js';
import { checksumOk, readNumber } from '../../src/evidence/tar-header.js';
import { nsToIso, statChanged } from '../../src/host/fs-stat.js';
import { ContainerRoot } from '../../src/host/proc-root.js';

// The fs-diff speed-ups (issue 8) replaced general code with fast paths for the common case; each
// must give exactly what the general code gives, or the evidence files would change.

/** The formula nsToIso used before its text fast path. */
function referenceIso(ns: bigint): string {
  const sec = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1_000_000_000n;
  if (sec > 8_640_000_000_000n || sec < -8_640_000_000_000n)
    return `@${sec}.${frac.toString().padStart(9, '0')}`;
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

describe('nsToIso: the text fast path gives the BigInt formula', () => {
  test.each([
    0n,
    1n,
    999_999_999n,
    1_000_000_000n,
    1_000_000_001n,
    -1n,
    -1_000_000_000n,
    -1_000_000_001n,
    1_764_582_000_123_456_789n,
    1_764_582_000_000_000_000n,
    999_999_999_999_999_999_999n,
    1_000_000_000_000_000_000_000n,
    8_640_000_000_000_999_999_999n,
    8_640_000_000_001_000_000_000n,
    -8_640_000_000_001_000_000_000n,
  ])('%s', (ns) => {
    expect(nsToIso(ns)).toBe(referenceIso(ns));
  });

  test('the cached seconds text does not leak between nearby times', () => {
    for (let i = 0n; i < 200n; i++) {
      const ns = 1_700_000_000_000_000_000n + i * 7_654_321_987n;
      expect(nsToIso(ns)).toBe(referenceIso(ns));
    }
  });
});

describe('sortByBytes sorts like Buffer.compare over UTF-8', () => {
  const reference = (xs: string[]) =>
    [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  test('ASCII paths (the code-unit fast path)', () => {
    const xs = ['/tmp/f10', '/tmp/f9', '/tmp/f1', '/tmp', '/a b', '/A', '/tmp/f1/x', '/\u007f'];
    expect(sortByBytes([...xs])).toEqual(reference(xs));
  });

  test('U+FFFD, private use, astral characters and lone surrogates (where UTF-16 order differs)', () => {
    const xs = [
      '/\ufffd',
      '/\ue000',
      '/\u{1f600}',
      '/\ud800',
      '/\udfff',
      '/z',
      '/\u00e9',
      '/\uffff',
      '/\u{10000}x',
      '/',
    ];
    expect(sortByBytes([...xs])).toEqual(reference(xs));
  });

  test('by a key', () => {
    const xs = [{ p: '/\u{1f600}' }, { p: '/\ufffd' }, { p: '/a' }];
    expect(sortByBytes([...xs], (x) => x.p).map((x) => x.p)).toEqual(reference(xs.map((x) => x.p)));
  });
});

describe('groupRequests with set look-ups', () => {
  test('only the top-most qualifying directory is fetched; paths under it are covered', () => {
    const files = (dir: string) => Array.from({ length: 8 }, (_, i) => `${dir}/f${i}`);
    const added = [...files('/data'), ...files('/data/sub'), ...files('/data2'), '/datax/one'];
    expect(groupRequests(added, [])).toEqual([
      { path: '/data', kind: 'directory' },
      { path: '/data2', kind: 'directory' },
      { path: '/datax/one', kind: 'path' },
    ]);
  });
});

describe('tar header numbers read in place', () => {
  const field = (text: string, len: number) => {
    const b = Buffer.alloc(512);
    b.write(text, 100, len, 'latin1');
    return b;
  };

  test.each([
    ['0000644\0', 0o644],
    ['     644', 0o644],
    ['644 \0\0\0\0', 0o644],
    ['\0\0\0\0\0\0\0\0', 0],
    ['        ', 0],
    ['77777777', 0o77777777],
  ])('%j', (text, want) => {
    expect(readNumber(field(text, 8), 100, 8)).toBe(want);
  });

  test('a field that is not octal is refused, naming the text', () => {
    expect(() => readNumber(field(' 0 7\0', 8), 100, 8)).toThrow('not an octal number: "0 7"');
    expect(() => readNumber(field('0009', 8), 100, 8)).toThrow('not an octal number: "0009"');
  });

  test('the checksum counts its own field as spaces, and the historic signed sum is accepted', () => {
    const block = Buffer.alloc(512);
    block.write('name', 0, 'latin1');
    block[200] = 0xff;
    const unsigned = [...block].reduce((s, b, i) => s + (i >= 148 && i < 156 ? 0x20 : b), 0);
    block.write(`${unsigned.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(checksumOk(block)).toBe(true);
    block.write(`${(unsigned - 256).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(checksumOk(block)).toBe(true);
    block.write(`${(unsigned + 1).toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    expect(checksumOk(block)).toBe(false);
  });
});

describe('ContainerRoot: a cached parent is still never followed through a symlink', () => {
  let dir: string;
  let root: ContainerRoot;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-fastpath-'));
    fs.mkdirSync(path.join(dir, 'd'));
    for (const n of ['a', 'b']) fs.writeFileSync(path.join(dir, 'd', n), n);
    fs.writeFileSync(Buffer.from(`${dir}/d/bad\xff`, 'latin1'), 'x');
    root = ContainerRoot.open(process.pid);
  });
  afterEach(() => {
    root.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('swapping the directory for a link after the first look does not redirect later looks', () => {
    expect(statChanged(root, `${dir}/d/a`, 'A')[0].type).toBe('file');
    fs.renameSync(path.join(dir, 'd'), path.join(dir, 'old'));
    fs.symlinkSync('/etc', path.join(dir, 'd'));
    // The parent fd is the directory first opened (now `old`): /etc/passwd is never reached.
    const [r] = statChanged(root, `${dir}/d/passwd`, 'A');
    expect(r.error).toBe('gone (no such file when stat-ed)');
    expect(statChanged(root, `${dir}/d/b`, 'A')[0]).toMatchObject({
      path: `${dir}/d/b`,
      type: 'file',
      size: 1,
    });
    // A fresh root walks again and refuses the link.
    const fresh = ContainerRoot.open(process.pid);
    try {
      expect(statChanged(fresh, `${dir}/d/a`, 'A')[0].error).toBe(
        `not looked at: ${dir}/d is a symlink (not followed)`,
      );
    } finally {
      fresh.close();
    }
  });

  test('exact and lossy siblings, and unclean spellings, give what the general walk gives', () => {
    const clean = statChanged(root, `${dir}/d/a`, 'A');
    expect(statChanged(root, `${dir}//d/a`, 'A')).toEqual(clean);
    expect(statChanged(root, `${dir}/d/a/`, 'A')).toEqual(clean);
    const [lossy] = statChanged(root, `${dir}/d/bad\ufffd`, 'C');
    expect(Buffer.from(lossy.pathB64!, 'base64')).toEqual(
      Buffer.from(`${dir}/d/bad\xff`, 'latin1'),
    );
    expect(lossy.type).toBe('file');
    expect(statChanged(root, '/', 'C')[0].error).toMatch(/gone/);
  });
});
