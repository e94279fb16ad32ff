import { describe, expect, test } from '@jest/globals';
import {
  parseBtime,
  parseStat,
  parseStatus,
  socketInode,
  splitCmdline,
  startTimeUtc,
} from '../../src/host/proc-parse.js';
import { ENGINE_TIME, rfc3339ToSeconds, toEngineTime } from '../../src/util/times.js';

// Real /proc/<pid>/stat of a busybox nc (fields after comm trimmed to what matters still numbered right).
const NC_STAT =
  '4321 (nc) S 4310 4309 4309 0 -1 4194560 120 0 0 0 0 0 0 0 20 0 1 0 812345 1511424 12 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

describe('/proc/<pid>/stat', () => {
  test.each([
    ['plain', NC_STAT, { pid: 4321, comm: 'nc', state: 'S', ppid: 4310, startTicks: 812345 }],
    [
      'comm with ") (" and spaces',
      NC_STAT.replace('(nc)', '(a) (b c)'),
      { comm: 'a) (b c', ppid: 4310, startTicks: 812345 },
    ],
    [
      'comm with a newline',
      NC_STAT.replace('(nc)', '(x\ny)'),
      { comm: 'x\ny', ppid: 4310, startTicks: 812345 },
    ],
  ])('%s', (_n, text, want) => expect(parseStat(text)).toMatchObject(want));

  test('rejects junk', () => {
    expect(() => parseStat('no parens here')).toThrow(/malformed/);
    expect(() => parseStat('1 (x) S')).toThrow(/missing fields/);
  });
});

describe('start time', () => {
  test.each([
    [0, 1_700_000_000, 100, '2023-11-14T22:13:20.000Z'],
    [812345, 1_700_000_000, 100, '2023-11-15T00:28:43.450Z'],
    [1, 1_700_000_000, 100, '2023-11-14T22:13:20.010Z'],
    [250, 1_700_000_000, 250, '2023-11-14T22:13:21.000Z'],
  ])('%i ticks after boot %i at %i Hz → %s', (ticks, btime, hz, iso) =>
    expect(startTimeUtc(ticks, btime, hz)).toBe(iso),
  );

  test('btime from /proc/stat', () => {
    expect(parseBtime('cpu  1 2 3\nintr 5\nctxt 9\nbtime 1764355200\nprocesses 77\n')).toBe(
      1764355200,
    );
    expect(() => parseBtime('cpu 1\n')).toThrow(/btime/);
  });
});

describe('/proc/<pid>/status and cmdline', () => {
  test('status fields', () => {
    const s = parseStatus(
      'Name:\tnc\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4321\nNgid:\t0\nPid:\t4321\nPPid:\t4310\nUid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\nNSpid:\t4321\t17\n',
    );
    expect(s).toMatchObject({
      name: 'nc',
      ppid: 4310,
      uids: [33, 33, 33, 33],
      gids: [33, 33, 33, 33],
      nspids: [4321, 17],
    });
  });

  test.each([
    [Buffer.from('nc\x00172.18.0.2\x004444\x00'), ['nc', '172.18.0.2', '4444']],
    [Buffer.from('sh\x00-c\x00a b\nc\x00'), ['sh', '-c', 'a b\nc']],
    [Buffer.from('x\x00\x00y\x00'), ['x', '', 'y']],
    [Buffer.from('no-trailing-nul'), ['no-trailing-nul']],
    [Buffer.alloc(0), []],
  ])('cmdline %#', (raw, args) => expect(splitCmdline(raw)).toEqual(args));

  test('socket inodes', () => {
    expect(socketInode('socket:[98765]')).toBe(98765);
    expect(socketInode('pipe:[1]')).toBeUndefined();
    expect(socketInode('/tmp/socket:[1]')).toBeUndefined();
  });
});

describe('engine time params', () => {
  const now = Date.parse('2026-11-28T20:17:00Z');
  test.each([
    ['1700000000', '1700000000'],
    ['1700000000.5', '1700000000.5'],
    ['2026-11-28T20:17:00Z', String(now / 1000)],
    ['2026-11-28T20:17:00.123456789Z', `${now / 1000}.123456789`],
    ['2026-11-28T21:17:00.5+01:00', `${now / 1000}.500000000`],
    ['15m', String(now / 1000 - 900)],
    ['2h', String(now / 1000 - 7200)],
  ])('%s → %s', (v, want) => {
    expect(ENGINE_TIME.test(v)).toBe(true);
    expect(toEngineTime(v, now)).toBe(want);
  });

  test.each(['yesterday', '15 m', '2026-11-28', '-5m', '1e9'])('rejects %s', (v) =>
    expect(ENGINE_TIME.test(v)).toBe(false),
  );

  test('RFC 3339 with nanoseconds to seconds', () => {
    expect(rfc3339ToSeconds('2026-11-28T20:17:00.25Z')).toBeCloseTo(now / 1000 + 0.25, 6);
    expect(rfc3339ToSeconds('not a time')).toBeUndefined();
  });
});
