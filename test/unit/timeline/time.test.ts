import { describe, expect, test } from '@jest/globals';
import {
  fromEngineEvent,
  isoMicros,
  parseAnyTime,
  parseRfc3339,
} from '../../../src/timeline/time.js';
import { datetimeMicros } from '../../helpers/timesketch.js';

describe('parseRfc3339', () => {
  test.each([
    ['2026-11-28T20:17:00Z', 1795897020000000, undefined],
    ['2026-11-28T20:17:00.5Z', 1795897020500000, undefined],
    ['2026-11-28T20:17:00.123456Z', 1795897020123456, undefined],
    // Go's RFC3339Nano: sub-µs digits are kept as integer nanoseconds.
    ['2026-11-28T20:17:00.123456789Z', 1795897020123456, '1795897020123456789'],
    ['2026-11-28T20:17:00.1234567Z', 1795897020123456, '1795897020123456700'],
    ['2026-11-28T21:17:00.000001+01:00', 1795897020000001, undefined],
    ['2026-11-28T15:47:00-04:30', 1795897020000000, undefined],
  ])('%s', (text, us, nanos) => {
    expect(parseRfc3339(text)).toEqual(nanos ? { us, nanos } : { us });
  });

  test.each(['0001-01-01T00:00:00Z', 'yesterday', '2026-11-28 20:17', '2026-13-45T99:00:00Z', ''])(
    'rejects %j',
    (text) => {
      expect(parseRfc3339(text)).toBeUndefined();
    },
  );
});

describe('engine and numeric times', () => {
  test('timeNano text keeps every digit (a JSON number past 2^53 would not)', () => {
    expect(fromEngineEvent('1795897226812044183', 1795897226)).toEqual({
      us: 1795897226812044,
      nanos: '1795897226812044183',
    });
  });
  test('falls back to seconds', () => {
    expect(fromEngineEvent(undefined, 1795897226)).toEqual({ us: 1795897226000000 });
  });
  test.each([
    [1795897226, 1795897226000000],
    [1795897226123, 1795897226123000],
    [1795897226123456, 1795897226123456],
    // A nanosecond count beyond 2^53 on purpose: the parser must cope with the precision it lost.
    // eslint-disable-next-line no-loss-of-precision
    [1795897226123456789, 1795897226123456],
  ])('parseAnyTime(%d) by magnitude', (n, us) => {
    expect(parseAnyTime(n)?.us).toBe(us);
  });
});

describe('isoMicros', () => {
  test.each([0, 1, 999, 1000, 1795897020123456, 1795897020000001])(
    '%d round-trips through a Timesketch datetime',
    (us) => {
      const s = isoMicros(us);
      expect(s).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
      expect(datetimeMicros(s)).toBe(us);
    },
  );
});

describe('parseRfc3339 fast path (same second, cached calendar part)', () => {
  test('agrees with an independent computation for every fraction length, malformed ones refused', () => {
    const base = Date.parse('2026-11-28T20:17:05Z') * 1000;
    const cases: [string, number | undefined][] = [
      ['2026-11-28T20:17:05Z', base],
      ['2026-11-28T20:17:05.1Z', base + 100000],
      ['2026-11-28T20:17:05.000001Z', base + 1],
      ['2026-11-28T20:17:05.999999999Z', base + 999999],
      ['2026-11-28T20:17:05.Z', undefined],
      ['2026-11-28T20:17:05.12a4Z', undefined],
      ['2026-11-28T20:17:06.5Z', base + 1_500_000],
      ['2026-11-28T20:17:05.25Z', base + 250000],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [text, us] of cases) expect([text, parseRfc3339(text)?.us]).toEqual([text, us]);
    }
    expect(parseRfc3339('2026-11-28T20:17:05.999999999Z')?.nanos).toBe(`${base + 999999}999`);
  });
});
