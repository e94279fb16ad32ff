import { describe, expect, test } from '@jest/globals';
import {
  allowEntry,
  allowedAddress,
  cidrText,
  egressRuleset,
  inboundFromPorts,
  outboundFlows,
  probeCount,
} from '../../src/containment/egress-rules.js';

describe('contain:restrict-egress rule text', () => {
  const plan = {
    table: 'cirt-egress-c1',
    caseId: 'c1',
    inbound: [
      { port: 80, protocol: 'tcp' as const },
      { port: 53, protocol: 'udp' as const },
    ],
    allow: [
      allowEntry.parse({ cidr: '10.20.0.0/16', ports: [5432], protocol: 'tcp' }),
      allowEntry.parse({ cidr: 'fd00::/8' }),
    ],
    probe: { ip: '172.17.0.1', port: 9 },
  };
  const text = egressRuleset(plan);

  test.each([
    ['one table of its own', 'table inet cirt-egress-c1 {'],
    ['output drops by default', 'type filter hook output priority -10; policy drop;'],
    ['forward drops everything', 'counter drop comment "forwarded"'],
    [
      'replies to inbound connections leave',
      'ct direction reply accept comment "answers to connections opened towards the container"',
    ],
    ['mid-stream pickups are dropped', 'tcp flags & (fin|syn|rst|ack) != syn ct state new drop'],
    ['published tcp port', 'ct direction original tcp dport { 80 } accept'],
    ['published udp port', 'ct direction original udp dport { 53 } accept'],
    [
      'allowed out',
      'ct direction original meta l4proto tcp ip daddr 10.20.0.0/16 th dport { 5432 } accept',
    ],
    [
      'its replies in',
      'ct direction reply meta l4proto tcp ip saddr 10.20.0.0/16 th sport { 5432 } accept',
    ],
    ['an IPv6 allow', 'ct direction original ip6 daddr fd00::/8 accept'],
    [
      'the probe is counted by its own rule',
      'ip daddr 172.17.0.1 tcp dport 9 counter drop comment "cirt probe"',
    ],
  ])('%s', (_what, line) => {
    expect(text.split('\n').map((l) => l.trim())).toContain(line);
  });

  test.each([
    '10.0.0.0/33',
    '10.0.0.0/8; flush ruleset',
    '1.2.3',
    'evil.example',
    '::1/129',
    '10.0.0.1/',
  ])('refuses %s as an address', (bad) => {
    expect(cidrText.safeParse(bad).success).toBe(false);
  });

  test('a DNS resolver (the dns param) is an allow entry for udp and tcp 53 to that address alone', () => {
    const dns = egressRuleset({
      ...plan,
      allow: [allowEntry.parse({ cidr: '10.20.0.2', ports: [53], protocol: 'any' })],
    });
    expect(dns).toContain(
      'ct direction original meta l4proto { tcp, udp } ip daddr 10.20.0.2/32 th dport { 53 } accept',
    );
  });

  test('reads the probe counter back, and knows when the rule is missing', () => {
    expect(
      probeCount(
        '  ip daddr 1.2.3.4 tcp dport 9 counter packets 3 bytes 180 drop comment "cirt probe"',
      ),
    ).toBe(3);
    expect(probeCount('table inet x {}')).toBeUndefined();
  });

  test('the flows cut are those the container opened to a destination not allowed', () => {
    const listing = [
      'tcp      6 431999 ESTABLISHED src=172.23.0.3 dst=172.23.0.2 sport=36612 dport=4444 src=172.23.0.2 dst=172.23.0.3 sport=4444 dport=36612 [ASSURED] mark=0 use=1',
      'tcp      6 431999 ESTABLISHED src=172.23.0.3 dst=10.20.1.1 sport=3612 dport=5432 src=10.20.1.1 dst=172.23.0.3 sport=5432 dport=3612 [ASSURED] mark=0 use=1',
      'tcp      6 431999 ESTABLISHED src=172.23.0.1 dst=172.23.0.3 sport=5555 dport=80 src=172.23.0.3 dst=172.23.0.1 sport=80 dport=5555 [ASSURED] mark=0 use=1',
    ].join('\n');
    expect(outboundFlows(listing, '172.23.0.3', plan)).toHaveLength(1);
    expect(allowedAddress('10.20.9.9', plan.allow)).toBe(true);
    expect(allowedAddress('172.23.0.2', plan.allow)).toBe(false);
  });

  test('inbound ports come from the port map; sctp is left out', () => {
    expect(inboundFromPorts({ '80/tcp': null, '53/udp': [], '9/sctp': null })).toEqual([
      { port: 80, protocol: 'tcp' },
      { port: 53, protocol: 'udp' },
    ]);
  });
});
