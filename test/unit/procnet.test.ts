import { describe, expect, test } from '@jest/globals';
import {
  buildInterfaces,
  parseArp,
  parseDev,
  parseFibTrieLocal,
  parseIfInet6,
  parseRoutes,
} from '../../src/host/procnet-links.js';
import {
  formatIPv6,
  hexToIPv4,
  hexToIPv6,
  parseInetLine,
  parseUnixLine,
  stateName,
  withOwners,
} from '../../src/host/procnet.js';

describe('address decoding', () => {
  test.each([
    ['0100007F', '127.0.0.1'],
    ['00000000', '0.0.0.0'],
    ['020012AC', '172.18.0.2'],
    ['010200C0', '192.0.2.1'],
  ])('IPv4 %s → %s', (hex, ip) => expect(hexToIPv4(hex)).toBe(ip));

  test.each([
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000001000000', '::1'],
    ['0000000000000000FFFF0000020012AC', '::ffff:172.18.0.2'],
    ['000080FE00000000FFAC4200020012FE', 'fe80::42:acff:fe12:2'],
    ['B80D0120000000000000000001000000', '2001:db8::1'],
    // 2001:db8:0:1:1:1:1:1 — a single zero group is not shortened (RFC 5952 4.2.2)
    ['B80D0120010000000100010001000100', '2001:db8:0:1:1:1:1:1'],
  ])('IPv6 %s → %s', (hex, ip) => expect(hexToIPv6(hex)).toBe(ip));

  test('the longest zero run is shortened, the first on a tie', () => {
    expect(formatIPv6([0x20, 0x01, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])).toBe(
      '2001:0:0:1::1',
    );
    expect(formatIPv6([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])).toBe(
      '2001:db8::1:0:0:1',
    );
  });

  test.each(['7F00001', 'XYZ00001', '0100007F00'])('rejects malformed IPv4 hex %s', (hex) =>
    expect(() => hexToIPv4(hex)).toThrow(),
  );
});

describe('socket tables', () => {
  test.each([
    [
      'tcp',
      '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 624 1 000000001585544b 100 0 0 10 0',
      {
        localAddress: '0.0.0.0',
        localPort: 2024,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        state: 'LISTEN',
        uid: 0,
        inode: 624,
      },
    ],
    [
      'tcp',
      '   3: 030012AC:A1F2 020012AC:115C 01 00000000:00000000 00:00000000 00000000    33        0 98765 1 0000000000000000 20 4 30 10 -1',
      {
        localAddress: '172.18.0.3',
        localPort: 41458,
        remoteAddress: '172.18.0.2',
        remotePort: 4444,
        state: 'ESTABLISHED',
        uid: 33,
        inode: 98765,
      },
    ],
    [
      'tcp',
      '   1: 0100007F:8028 0100007F:9602 06 00000000:00000000 03:000007B7 00000000     0        0 0 3 00000000ee1b76cd',
      {
        localAddress: '127.0.0.1',
        localPort: 32808,
        remotePort: 38402,
        state: 'TIME_WAIT',
        inode: 0,
      },
    ],
    [
      'tcp6',
      '   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
      { localAddress: '::', localPort: 80, state: 'LISTEN', inode: 4242 },
    ],
    [
      'udp',
      '  411: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 17393 2 0000000000000000 0',
      { localPort: 68, state: 'UNCONN', inode: 17393 },
    ],
    [
      'udp6',
      ' 1234: 0000000000000000FFFF0000030012AC:D431 0000000000000000FFFF0000020012AC:0035 01 00000000:00000000 00:00000000 00000000     0        0 555 2 0000000000000000 0',
      {
        localAddress: '::ffff:172.18.0.3',
        localPort: 54321,
        remoteAddress: '::ffff:172.18.0.2',
        remotePort: 53,
        state: 'ESTABLISHED',
      },
    ],
  ] as const)('%s line decodes', (proto, line, want) => {
    expect(parseInetLine(proto, line)).toMatchObject({ proto, ...want });
  });

  test.each([
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '',
    'garbage',
  ])('header or junk yields null: %j', (line) => expect(parseInetLine('tcp', line)).toBeNull());

  test('an IPv6-length address in the IPv4 table is not decoded', () => {
    expect(
      parseInetLine(
        'tcp',
        '   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1',
      ),
    ).toBeNull();
  });

  test.each([
    [
      '000000005489bfcf: 00000002 00000000 00010000 0001 01  5071 /var/run/docker.sock',
      { path: '/var/run/docker.sock', state: 'LISTEN', type: 'STREAM', inode: 5071 },
    ],
    [
      '0000000011112222: 00000003 00000000 00000000 0001 03 40001 /tmp/my socket with spaces',
      { path: '/tmp/my socket with spaces', state: 'CONNECTED', inode: 40001 },
    ],
    [
      '0000000011112223: 00000002 00000000 00000000 0002 01 40002 @abstract name',
      { path: '@abstract name', state: 'UNCONNECTED', type: 'DGRAM' },
    ],
    [
      '0000000011112224: 00000003 00000000 00000000 0001 03 40003',
      { path: '', state: 'CONNECTED', inode: 40003 },
    ],
    ['0000000011112225: 00000002 00000000 00000000 0005 01 40004 /run/x', { type: 'SEQPACKET' }],
  ])('unix line %#', (line, want) => {
    expect(parseUnixLine(line)).toMatchObject({ proto: 'unix', localPort: null, ...want });
  });

  test('unix header is not a socket', () => {
    expect(parseUnixLine('Num       RefCount Protocol Flags    Type St Inode Path')).toBeNull();
  });

  test.each([
    ['tcp', '01', 'ESTABLISHED'],
    ['tcp', '0A', 'LISTEN'],
    ['tcp', '08', 'CLOSE_WAIT'],
    ['tcp6', '0C', 'NEW_SYN_RECV'],
    ['udp', '07', 'UNCONN'],
    ['tcp', '07', 'CLOSE'],
    ['tcp', 'FF', 'UNKNOWN(0xFF)'],
  ] as const)('%s state %s → %s', (proto, hex, name) => expect(stateName(proto, hex)).toBe(name));

  test('owners come from the inode map; inode 0 has none', () => {
    const owners = new Map([
      [98765, { pids: [12, 3], names: ['sh', 'nc'] }],
      [0, { pids: [1], names: ['x'] }],
    ]);
    const s = parseInetLine(
      'tcp',
      '   3: 030012AC:A1F2 020012AC:115C 01 00000000:00000000 00:00000000 00000000    33        0 98765 1',
    )!;
    expect(withOwners(s, owners)).toMatchObject({ pids: [3, 12], processes: ['nc', 'sh'] });
    const tw = parseInetLine(
      'tcp',
      '   1: 0100007F:8028 0100007F:9602 06 00000000:00000000 03:000007B7 00000000     0        0 0 3',
    )!;
    expect(withOwners(tw, owners).pids).toEqual([]);
  });
});

const DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   49947     569    0    0    0     0          0         0    49947     569    0    0    0     0       0          0
  eth0:12345678901  100    1    2    0     0          0         3    5678      34    0    0    0     0       0          0
`;
const ROUTE = `Iface	Destination	Gateway 	Flags	RefCnt	Use	Metric	Mask		MTU	Window	IRTT
eth0	00000000	010012AC	0003	0	0	0	00000000	0	0	0
eth0	000012AC	00000000	0001	0	0	0	0000FFFF	0	0	0
`;
const FIB = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 172.18.0.0/16 2 0 2
        |-- 172.18.0.3
           /32 host LOCAL
        |-- 172.18.255.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
        |-- 172.18.0.3
           /32 host LOCAL
        |-- 10.9.9.9
           /32 host LOCAL
`;
const INET6 = `00000000000000000000000000000001 01 80 10 80       lo
fe800000000000000042acfffe120003 12 40 20 80     eth0
`;

describe('link tables', () => {
  test('dev counters, also when a big counter touches the colon', () => {
    const dev = parseDev(DEV);
    expect(dev.map((d) => d.name)).toEqual(['lo', 'eth0']);
    expect(dev[1].rx).toMatchObject({
      bytes: 12345678901,
      packets: 100,
      errs: 1,
      drop: 2,
      multicast: 3,
    });
    expect(dev[1].tx).toMatchObject({ bytes: 5678, packets: 34 });
  });

  test('routes decode gateway, destination, mask and flags', () => {
    expect(parseRoutes(ROUTE)).toEqual([
      expect.objectContaining({
        iface: 'eth0',
        destination: '0.0.0.0',
        gateway: '172.18.0.1',
        mask: '0.0.0.0',
        prefixLength: 0,
        flags: 'UG',
      }),
      expect.objectContaining({
        iface: 'eth0',
        destination: '172.18.0.0',
        gateway: '0.0.0.0',
        mask: '255.255.0.0',
        prefixLength: 16,
        flags: 'U',
      }),
    ]);
  });

  test('arp', () => {
    const arp = parseArp(
      'IP address       HW type     Flags       HW address            Mask     Device\n172.18.0.2       0x1         0x2         02:42:ac:12:00:02     *        eth0\n172.18.0.9       0x1         0x0         00:00:00:00:00:00     *        eth0\n',
    );
    expect(arp).toEqual([
      {
        ip: '172.18.0.2',
        hwType: '0x1',
        flags: '0x2',
        mac: '02:42:ac:12:00:02',
        mask: '*',
        device: 'eth0',
        complete: true,
      },
      expect.objectContaining({ ip: '172.18.0.9', complete: false }),
    ]);
  });

  test('fib_trie local addresses (deduplicated, /32 LOCAL only)', () => {
    expect(parseFibTrieLocal(FIB).sort()).toEqual(['10.9.9.9', '127.0.0.1', '172.18.0.3']);
  });

  test('if_inet6 is network order, not little-endian', () => {
    expect(parseIfInet6(INET6)).toEqual([
      { address: '::1', ifindex: 1, prefixLength: 128, scope: 'host', flags: '80', device: 'lo' },
      {
        address: 'fe80::42:acff:fe12:3',
        ifindex: 18,
        prefixLength: 64,
        scope: 'link',
        flags: '80',
        device: 'eth0',
      },
    ]);
  });

  test('interfaces get their addresses from connected routes; an uncovered one goes to "?"', () => {
    const ifs = buildInterfaces(
      parseDev(DEV),
      parseFibTrieLocal(FIB),
      parseRoutes(ROUTE),
      parseIfInet6(INET6),
    );
    const by = Object.fromEntries(ifs.map((i) => [i.name, i]));
    expect(by.lo.ipv4).toEqual([{ address: '127.0.0.1', prefixLength: 8 }]);
    expect(by.lo.ipv6).toEqual([{ address: '::1', prefixLength: 128, scope: 'host' }]);
    expect(by.eth0.ipv4).toEqual([{ address: '172.18.0.3', prefixLength: 16 }]);
    expect(by.eth0.rx.bytes).toBe(12345678901);
    expect(by['?'].ipv4).toEqual([{ address: '10.9.9.9', prefixLength: null }]);
  });
});
