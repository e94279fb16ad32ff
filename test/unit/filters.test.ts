import { UserError } from '../../src/errors.js';
import {
  ancestorImages,
  includesStopped,
  matchContainer,
  normaliseImageRef,
  parseFilters,
  resolveImage,
  type FilterSubject,
  type ImageNode,
} from '../../src/runtime/filters.js';

const ID = (c: string): string => `sha256:${c.repeat(64)}`;
const images: ImageNode[] = [
  { id: ID('a'), parent: '', tags: ['busybox:latest'], digests: [] },
  {
    id: ID('b'),
    parent: ID('a'),
    tags: ['corp/web:1.2'],
    digests: ['corp/web@sha256:' + 'f'.repeat(64)],
  },
  { id: ID('c'), parent: ID('b'), tags: [], digests: [] },
  { id: ID('d'), parent: '', tags: ['other:latest'], digests: [] },
];

const box = (over: Partial<FilterSubject> = {}): FilterSubject => ({
  id: '4f1c'.padEnd(64, '0'),
  name: 'web-1',
  labels: { app: 'web', tier: 'front' },
  state: 'running',
  imageId: ID('b'),
  networks: [{ name: 'backend', id: '9abc'.padEnd(64, '1') }],
  ...over,
});

const matches = (filters: string[], c: FilterSubject): boolean => {
  const f = parseFilters(filters);
  return matchContainer(f, c, ancestorImages(f, images).ids);
};

describe('--filter matches as dockerd does', () => {
  test.each<[string, string[], Partial<FilterSubject>, boolean]>([
    ['label key=value', ['label=app=web'], {}, true],
    ['label other value', ['label=app=db'], {}, false],
    ['label key only', ['label=tier'], {}, true],
    ['label key absent', ['label=owner'], {}, false],
    [
      'two labels must both hold (AND within label)',
      ['label=app=web', 'label=tier=back'],
      {},
      false,
    ],
    ['two labels both present', ['label=app=web', 'label=tier'], {}, true],
    ['label value with =', ['label=cmd=a=b'], { labels: { cmd: 'a=b' } }, true],
    ['name exact', ['name=web-1'], {}, true],
    ['name is a regexp found anywhere', ['name=eb'], {}, true],
    ['name anchored on the leading slash', ['name=^/web'], {}, true],
    ['name ^web misses (the slash)', ['name=^web'], {}, false],
    ['two names OR', ['name=nope', 'name=web'], {}, true],
    ['id prefix', ['id=4f1c'], {}, true],
    ['id other', ['id=ffff'], {}, false],
    ['status equal', ['status=running'], {}, true],
    ['status other', ['status=exited'], {}, false],
    ['two statuses OR', ['status=exited', 'status=running'], {}, true],
    ['network by name', ['network=backend'], {}, true],
    ['network by id prefix', ['network=9abc'], {}, true],
    ['network name is not a prefix match', ['network=back'], {}, false],
    ['ancestor by tag', ['ancestor=corp/web:1.2'], {}, true],
    [
      'ancestor by base image reaches descendants',
      ['ancestor=busybox'],
      { imageId: ID('c') },
      true,
    ],
    ['ancestor does not reach parents', ['ancestor=corp/web:1.2'], { imageId: ID('a') }, false],
    ['ancestor by digest', [`ancestor=corp/web@sha256:${'f'.repeat(64)}`], {}, true],
    ['ancestor by short id', ['ancestor=bbbbbbbbbbbb'], {}, true],
    ['ancestor unknown matches nothing', ['ancestor=nope'], {}, false],
    ['two ancestors OR', ['ancestor=other', 'ancestor=corp/web:1.2'], {}, true],
    ['keys AND', ['label=app=web', 'network=frontend'], {}, false],
    ['keys AND, all hold', ['label=app=web', 'network=backend', 'status=running'], {}, true],
    ['key is case-insensitive, sides trimmed', [' Label = app=web'], {}, true],
    ['a bad regexp matches nothing', ['name=('], {}, false],
  ])('%s', (_what, filters, over, expected) => {
    expect(matches(filters, box(over))).toBe(expected);
  });

  test('a status filter includes stopped containers (as docker ps does)', () => {
    expect(includesStopped(parseFilters(['status=exited']))).toBe(true);
    expect(includesStopped(parseFilters(['label=a']))).toBe(false);
  });

  test('every bad filter is reported at once, as a usage error', () => {
    let err: unknown;
    try {
      parseFilters(['labelapp', 'colour=red', 'status=sleeping', 'before=x', 'name=']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const m = (err as Error).message;
    expect(m).toContain('"labelapp" is not key=value');
    expect(m).toContain('"colour" is not a filter');
    expect(m).toContain('status=sleeping');
    expect(m).toContain('"before" is a docker filter cirt does not match');
    expect(m).toContain('name= needs a value');
  });

  test('image names are normalised as the engine lists them', () => {
    expect(normaliseImageRef('busybox')).toBe('busybox:latest');
    expect(normaliseImageRef('docker.io/library/busybox:1')).toBe('busybox:1');
    expect(normaliseImageRef('localhost:5000/x')).toBe('localhost:5000/x:latest');
    expect(resolveImage('docker.io/library/busybox', images)).toBe(ID('a'));
    // An ambiguous prefix names no image.
    expect(resolveImage('', images)).toBeUndefined();
  });

  test('unknown ancestors are named', () => {
    expect(
      ancestorImages(parseFilters(['ancestor=nope', 'ancestor=busybox']), images).unknown,
    ).toEqual(['nope']);
  });
});
