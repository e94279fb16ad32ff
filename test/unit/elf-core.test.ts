import { describe, expect, test } from '@jest/globals';
import { PAGE, parseMaps, planCore } from '../../src/collect/elf-core.js';
import { processFileMatcher } from '../../src/findings/matchers/process-file.js';
import type { Evidence, ProcessFileInfo } from '../../src/findings/evidence.js';
import { Diagnostics } from '../../src/timeline/artifacts.js';

const MAPS = [
  '00400000-00401000 r--p 00000000 00:2a 1234                               /bin/busybox',
  '00401000-00585000 r-xp 00001000 00:2a 1234                               /bin/busybox',
  '02d82000-02da4000 rw-p 00000000 00:00 0                                  [heap]',
  '7f0000000000-7f0000010000 ---p 00000000 00:00 0 ',
  '7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]',
  'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]',
  'garbage line',
  '',
].join('\n');

describe('ELF core layout', () => {
  test('maps parse, keeping paths with spaces and naming lines that do not parse', () => {
    const { maps, bad } = parseMaps(MAPS.replace('[heap]', '/tmp/a b (deleted)'));
    expect(maps).toHaveLength(6);
    expect(maps[2].path).toBe('/tmp/a b (deleted)');
    expect(maps[5].start).toBe(0xffffffffff600000n);
    expect(bad).toEqual(['garbage line']);
  });

  test('header, notes and loads are laid out before reading; the budget clips filesz, not memsz', () => {
    const { maps } = parseMaps(MAPS);
    const loads = maps.filter((m) => m.perms[0] === 'r');
    let left = 0x1000 + 0x184000 + PAGE; // the heap gets one page
    const plan = planCore(
      { pid: 1, ppid: 0, uid: 0, gid: 0, state: 'S', comm: 'sh', args: 'sh -c x' },
      loads,
      maps,
      (m) => {
        const take = Math.min(Number(m.end - m.start), left);
        left -= take;
        return take;
      },
    );
    const h = plan.head;
    expect(h.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
    expect(h.readUInt16LE(16)).toBe(4); // ET_CORE
    expect(h.readUInt16LE(56)).toBe(1 + loads.length);
    expect(plan.loads[0].fileOffset % PAGE).toBe(0);
    expect(plan.loads[0].fileOffset).toBeGreaterThanOrEqual(h.length);
    expect(plan.loads.map((l) => l.fileBytes)).toEqual([0x1000, 0x184000, PAGE, 0]);
    // The clipped heap: p_filesz one page, p_memsz its whole size.
    const ph = 64 + 3 * 56;
    expect(Number(h.readBigUInt64LE(ph + 32))).toBe(PAGE);
    expect(Number(h.readBigUInt64LE(ph + 40))).toBe(0x22000);
    // NT_FILE names the file mappings only.
    expect(h.includes(Buffer.from('/bin/busybox\0'))).toBe(true);
    expect(h.includes(Buffer.from('[heap]'))).toBe(false);
    const last = plan.loads[plan.loads.length - 1];
    expect(plan.size).toBe(last.fileOffset + last.fileBytes);
  });
});

describe('processFile matcher', () => {
  const f = (over: Partial<ProcessFileInfo>): ProcessFileInfo => ({
    pid: 10,
    nspid: 3,
    comm: 'x',
    kind: 'exe',
    link: '/bin/x',
    deleted: false,
    memfd: false,
    sha256: 'ab'.repeat(32),
    bytes: 5,
    size: 5,
    complete: true,
    fileArtifact: 'procfiles/10/exe',
    entry: 0,
    ...over,
  });
  const ev = (list: ProcessFileInfo[]): Evidence =>
    ({
      files: [],
      fs: [],
      sockets: [],
      networks: [],
      exposed: new Set(),
      pathDirs: [],
      diag: new Diagnostics(),
      processFiles: { artifact: 'procfiles/index.json', list },
    }) as Evidence;
  const list = [
    f({}),
    f({ pid: 11, link: '/tmp/x (deleted)', deleted: true, entry: 1 }),
    f({ pid: 12, link: '/memfd:x (deleted)', deleted: true, memfd: true, entry: 2 }),
    f({ pid: 13, kind: 'fd', fd: 4, link: '/tmp/y (deleted)', deleted: true, entry: 3 }),
  ];

  test('deleted executables (not memfds, not open files by default), with the hash', () => {
    const p = processFileMatcher.params.parse({ deleted: true });
    const m = processFileMatcher.match(p, ev(list));
    expect(m.map((x) => x.key)).toEqual(['11:exe:']);
    expect(m[0].summary).toContain('ab'.repeat(32));
    expect(m[0].evidence[0]).toEqual({ artifact: 'procfiles/index.json', ref: { entry: 1 } });
  });

  test('memfd executables; open deleted files when asked', () => {
    const memfd = processFileMatcher.params.parse({ memfd: true });
    expect(processFileMatcher.match(memfd, ev(list)).map((x) => x.key)).toEqual(['12:exe:']);
    const fds = processFileMatcher.params.parse({ deleted: true, kinds: ['fd'] });
    expect(processFileMatcher.match(fds, ev(list)).map((x) => x.key)).toEqual(['13:fd:4']);
    expect(processFileMatcher.params.safeParse({}).success).toBe(false);
  });
});
