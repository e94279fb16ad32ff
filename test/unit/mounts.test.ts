import { describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { planMounts } from '../../src/collect/mount-plan.js';
import { mountFactsOf } from '../../src/docker/facts.js';
import { END_OF_ARCHIVE, padding, tarHeader } from '../../src/collect/tar-write.js';
import { parseMountInfo } from '../../src/host/mountinfo.js';
import { decodeHeader } from '../../src/evidence/tar-header.js';
import { bytesParam, parseBytes } from '../../src/util/bytes-param.js';

describe('byte budget params', () => {
  test.each([
    [1048576, 1048576],
    [0, 0],
    ['64MiB', 64 * 1024 ** 2],
    ['64m', 64 * 1024 ** 2],
    ['64 MB', 64 * 1024 ** 2],
    ['512KiB', 512 * 1024],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['100', 100],
    ['2t', 2 * 1024 ** 4],
  ])('%p is %p bytes', (v, n) => expect(parseBytes(v)).toBe(n));

  test.each([[-1], [1.5], ['lots'], ['12 parsecs'], [''], ['-5MiB']])('%p is refused', (v) =>
    expect(parseBytes(v)).toBeUndefined(),
  );

  test('the zod param takes a default, parses text and names the bad value', () => {
    const s = bytesParam('64MiB', 'per file');
    expect(s.parse(undefined)).toBe(64 * 1024 ** 2);
    expect(s.parse('1KiB')).toBe(1024);
    const r = s.safeParse('huge');
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain('\\"huge\\" is not a byte size');
  });
});

const MOUNTINFO = [
  '700 650 0:60 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c',
  '701 700 0:63 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '702 700 0:64 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
  '705 702 0:59 / /dev/shm rw,nosuid,nodev,noexec,relatime - tmpfs shm rw,size=65536k',
  '706 700 254:0 /var/lib/docker/containers/abc/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw',
  '707 700 254:0 /var/lib/docker/volumes/' +
    'f'.repeat(64) +
    '/_data /data rw,relatime master:1 - ext4 /dev/vda rw',
  '708 700 254:0 /var/lib/docker/volumes/web/_data /srv/my\\040data ro,relatime - ext4 /dev/vda rw',
  '709 700 254:0 /home/ops /ops rw,relatime - ext4 /dev/vda rw',
  '710 701 0:64 /null /proc/keys rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
  'garbage line',
].join('\n');

describe('mounts from mountinfo and inspect', () => {
  test('mountinfo lines are decoded, octal escapes undone, odd lines kept aside', () => {
    const { mounts, bad } = parseMountInfo(MOUNTINFO);
    expect(bad).toEqual(['garbage line']);
    expect(mounts.find((m) => m.id === 708)).toMatchObject({
      mountPoint: '/srv/my data',
      fsType: 'ext4',
      options: expect.arrayContaining(['ro']),
      root: '/var/lib/docker/volumes/web/_data',
    });
    expect(mounts.find((m) => m.id === 700)).toMatchObject({
      mountPoint: '/',
      fsType: 'overlay',
      source: 'overlay',
    });
  });

  test("each mount gets its kind from inspect Mounts, the file system and the engine's masks", () => {
    const info = {
      Mounts: [
        {
          Type: 'volume',
          Name: 'f'.repeat(64),
          Source: '/var/lib/docker/volumes/x/_data',
          Destination: '/data',
          RW: true,
        },
        {
          Type: 'volume',
          Name: 'web',
          Source: '/var/lib/docker/volumes/web/_data',
          Destination: '/srv/my data',
          RW: false,
        },
        { Type: 'bind', Source: '/home/ops', Destination: '/ops', RW: true },
      ],
      HostConfig: { MaskedPaths: ['/proc/keys'] },
    } as unknown as Docker.ContainerInspectInfo;
    const plan = planMounts(mountFactsOf(info), parseMountInfo(MOUNTINFO).mounts);
    const kinds = Object.fromEntries(plan.map((m) => [m.mountPoint, m.kind]));
    expect(kinds).toEqual({
      '/': 'rootfs',
      '/proc': 'kernel',
      '/dev': 'tmpfs',
      '/dev/shm': 'tmpfs',
      '/etc/hosts': 'engine-file',
      '/data': 'anonymous-volume',
      '/srv/my data': 'named-volume',
      '/ops': 'bind',
      '/proc/keys': 'masked',
    });
    expect(plan.find((m) => m.mountPoint === '/srv/my data')).toMatchObject({
      source: 'web',
      readOnly: true,
      engine: { Type: 'volume', Name: 'web', RW: false },
    });
    expect(plan.map((m) => m.n)).toEqual(plan.map((_m, i) => i + 1));
  });

  test("without mountinfo (remote engine) the engine's view is listed, with its own files and /dev/shm", () => {
    const info = {
      Mounts: [{ Type: 'volume', Name: 'web', Destination: '/srv', RW: true }],
      HostConfig: { Tmpfs: { '/run': 'size=1m' }, IpcMode: 'private' },
      HostsPath: '/var/lib/docker/containers/abc/hosts',
      ResolvConfPath: '/var/lib/docker/containers/abc/resolv.conf',
      HostnamePath: '/var/lib/docker/containers/abc/hostname',
    } as unknown as Docker.ContainerInspectInfo;
    const kinds = Object.fromEntries(
      planMounts(mountFactsOf(info), null).map((m) => [m.mountPoint, m.kind]),
    );
    expect(kinds).toEqual({
      '/dev/shm': 'tmpfs',
      '/etc/hostname': 'engine-file',
      '/etc/hosts': 'engine-file',
      '/etc/resolv.conf': 'engine-file',
      '/run': 'tmpfs',
      '/srv': 'named-volume',
    });
  });
});

describe('tar headers cirt writes', () => {
  test('decode back, and GNU tar lists long, odd and special entries as written', () => {
    const long = Buffer.from(`dev/shm/${'d'.repeat(120)}/${'f'.repeat(90)}`);
    const odd = Buffer.from([0x64, 0x2f, 0xff, 0x0a, 0x78]);
    const parts: Buffer[] = [];
    const add = (h: Parameters<typeof tarHeader>[0], data = Buffer.alloc(0)): void => {
      parts.push(tarHeader(h), data, Buffer.alloc(padding(data.length)));
    };
    add({
      name: Buffer.from('dev/shm'),
      type: 'directory',
      mode: 0o1777,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1_700_000_000,
    });
    add(
      {
        name: long,
        type: 'file',
        mode: 0o755,
        uid: 3_000_000,
        gid: 5,
        size: 3,
        mtime: 1_700_000_000,
      },
      Buffer.from('abc'),
    );
    add(
      { name: odd, type: 'file', mode: 0o644, uid: 0, gid: 0, size: 1, mtime: 1_700_000_000 },
      Buffer.from('z'),
    );
    add({
      name: Buffer.from('dev/shm/pipe'),
      type: 'fifo',
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1_700_000_000,
    });
    add({
      name: Buffer.from('dev/null'),
      type: 'character-device',
      mode: 0o666,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1_700_000_000,
      devmajor: 1,
      devminor: 3,
    });
    add({
      name: Buffer.from('dev/shm/l'),
      type: 'symlink',
      mode: 0o777,
      uid: 0,
      gid: 0,
      size: 0,
      mtime: 1_700_000_000,
      linkname: Buffer.from('/etc/shadow'),
    });
    parts.push(END_OF_ARCHIVE);
    const tar = Buffer.concat(parts);
    expect(decodeHeader(tar.subarray(0, 512))).toMatchObject({
      typeflag: '5',
      mode: 0o1777,
      name: Buffer.from('dev/shm/'),
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tarw-'));
    try {
      fs.writeFileSync(path.join(dir, 't.tar'), tar);
      const listing = execFileSync('tar', ['--numeric-owner', '-tvf', path.join(dir, 't.tar')])
        .toString('latin1')
        .split('\n')
        .filter(Boolean);
      expect(listing).toHaveLength(6);
      expect(listing[1]).toMatch(new RegExp(`^-rwxr-xr-x 3000000/5 +3 .* ${long.toString()}$`));
      expect(listing[3]).toMatch(/^prw-r--r-- .* dev\/shm\/pipe$/);
      expect(listing[4]).toMatch(/^crw-rw-rw- .* 1,3 .* dev\/null$/);
      expect(listing[5]).toMatch(/^lrwxrwxrwx .* dev\/shm\/l -> \/etc\/shadow$/);
      expect(
        execFileSync('tar', ['-xOf', path.join(dir, 't.tar'), long.toString()]).toString(),
      ).toBe('abc');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
