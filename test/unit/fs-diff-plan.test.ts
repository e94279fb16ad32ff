import { encodeQueryBytes, isDirStat } from '../../src/docker/archive.js';
import { planFetch, requestEntryPath, type Change } from '../../src/collect/changes.js';

const A = 1;
const C = 0;
const D = 2;
const ch = (list: [number, string][]): Change[] => list.map(([Kind, Path]) => ({ Kind, Path }));

describe('planFetch: fewest archive requests, no unchanged content', () => {
  test('an added directory is one request that covers everything under it', () => {
    const p = planFetch(
      ch([
        [C, '/tmp'],
        [A, '/tmp/.cache'],
        [A, '/tmp/.cache/kworkerd'],
        [A, '/tmp/.cache/c2.log'],
      ]),
    );
    expect(p.added).toEqual(['/tmp/.cache']);
    expect(p.covered).toBe(2);
    expect(p.changedDirs).toEqual(['/tmp']);
    expect(p.changedLeaves).toEqual([]);
  });

  test('a changed directory with changed children is never fetched; its changed file children are', () => {
    const p = planFetch(
      ch([
        [C, '/etc'],
        [C, '/etc/passwd'],
        [D, '/etc/group'],
        [A, '/etc/cron.d'],
        [A, '/etc/cron.d/evil'],
      ]),
    );
    expect(p.changedDirs).toEqual(['/etc']);
    expect(p.changedLeaves).toEqual(['/etc/passwd']);
    expect(p.added).toEqual(['/etc/cron.d']);
    expect(p.deleted).toEqual(['/etc/group']);
  });

  test('a changed path with nothing listed below is a leaf (the caller asks the engine whether it is a directory)', () => {
    const p = planFetch(
      ch([
        [C, '/var'],
        [C, '/var/www'],
      ]),
    );
    expect(p.changedDirs).toEqual(['/var']);
    expect(p.changedLeaves).toEqual(['/var/www']);
  });

  test('added siblings in a changed directory are separate requests; similar prefixes are not ancestors', () => {
    const p = planFetch(
      ch([
        [C, '/tmp'],
        [A, '/tmp/a'],
        [A, '/tmp/a-b'],
        [A, '/tmp/a/x'],
        [A, '/tmp/ab/y'],
      ]),
    );
    expect(p.added).toEqual(['/tmp/a', '/tmp/a-b', '/tmp/ab/y']);
    expect(p.covered).toBe(1);
  });

  test('duplicates are planned once, deleted paths never fetched, output sorted by bytes', () => {
    const p = planFetch(
      ch([
        [A, '/z'],
        [A, '/b'],
        [A, '/z'],
        [D, '/old'],
        [D, '/old/x'],
      ]),
    );
    expect(p.added).toEqual(['/b', '/z']);
    expect(p.deleted).toEqual(['/old', '/old/x']);
  });
});

describe('archive names → container paths', () => {
  test.each([
    ['/tmp/h', 'h/', '/tmp/h'],
    ['/tmp/h', 'h/x/y', '/tmp/h/x/y'],
    ['/etc/passwd', 'passwd', '/etc/passwd'],
    ['/top', 'top/f', '/top/f'],
    ['/tmp/h/', './h/f', '/tmp/h/f'],
  ])('request %s, entry %s → %s', (req, name, want) => {
    expect(requestEntryPath(Buffer.from(req), Buffer.from(name)).toString()).toBe(want);
  });

  test('a non-UTF-8 base name the engine re-encoded lossily gets its exact bytes back', () => {
    const req = Buffer.from([0x2f, 0x74, 0x2f, 0x64, 0xff]); // /t/d\xff
    const lossy = Buffer.from('d\ufffd/in');
    expect(requestEntryPath(req, lossy)).toEqual(Buffer.concat([req, Buffer.from('/in')]));
  });

  test('paths are sent as exact bytes', () => {
    expect(encodeQueryBytes(Buffer.from([0x2f, 0x61, 0x0a, 0x20, 0x7c, 0x5c, 0xff]))).toBe(
      '/a%0A%20%7C%5C%FF',
    );
  });

  test('the engine path-stat mode tells directories apart', () => {
    expect(isDirStat({ name: 'h', size: 4096, mode: 2147484141, mtime: '', linkTarget: '' })).toBe(
      true,
    );
    expect(isDirStat({ name: 'f', size: 1, mode: 0o644, mtime: '', linkTarget: '' })).toBe(false);
  });
});
