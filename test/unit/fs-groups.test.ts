import { describe, expect, test } from '@jest/globals';
import { groupRequests, pathKey } from '../../src/collect/fs-groups.js';
import { parseBytes as parseBudget } from '../../src/util/bytes-param.js';

const many = (dir: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${dir}/f${i}`);

describe('groupRequests', () => {
  test('a directory with many changed children is one request, not one per child', () => {
    const r = groupRequests(many('/tmp', 10_000), []);
    expect(r).toEqual([{ path: '/tmp', kind: 'directory' }]);
  });

  test('few children stay single requests; changed leaves keep their HEAD check', () => {
    expect(groupRequests(['/tmp/a', '/tmp/b'], ['/etc/hosts'])).toEqual([
      { path: '/etc/hosts', kind: 'path', leaf: true },
      { path: '/tmp/a', kind: 'path' },
      { path: '/tmp/b', kind: 'path' },
    ]);
  });

  test('/ is never fetched whole, nor an excluded or lossily named parent', () => {
    expect(groupRequests(many('', 20), []).every((r) => r.kind === 'path')).toBe(true);
    expect(groupRequests(many('/tmp', 20), [], { excluded: new Set(['/tmp']) })).toHaveLength(20);
    expect(groupRequests(many('/x\ufffd', 20), [])).toHaveLength(20);
  });

  test('only the top-most qualifying parent is fetched; everything under it is covered', () => {
    const r = groupRequests([...many('/var', 8), ...many('/var/f0/sub', 30)], []);
    expect(r).toEqual([{ path: '/var', kind: 'directory' }]);
  });

  test('pathKey: runs of U+FFFD match', () => {
    expect(pathKey('/a\ufffd\ufffdb')).toBe(pathKey('/a\ufffdb'));
  });
});

describe('parseBudget', () => {
  test.each([
    [4096, 4096],
    ['4096', 4096],
    ['64MiB', 64 * 2 ** 20],
    ['64M', 64 * 2 ** 20],
    ['1.5GiB', 1.5 * 2 ** 30],
    ['1TiB', 2 ** 40],
    ['100KiB', 102400],
    ['2 GB', 2 * 2 ** 30],
  ])('%p → %p', (input, bytes) => expect(parseBudget(input)).toBe(bytes));

  test.each(['', 'lots', '-1', '5PiB!', 1.5, -3])('%p is refused', (input) =>
    expect(parseBudget(input)).toBeUndefined(),
  );
});
