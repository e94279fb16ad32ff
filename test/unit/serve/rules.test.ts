import { describe, expect, test } from '@jest/globals';
import { falcoAlert } from '../../../src/app/alert.js';
import { parseServeConfig } from '../../../src/serve/config.js';
import { parseDuration } from '../../../src/serve/duration.js';
import { tokenMatches } from '../../../src/serve/http.js';
import { parseListen } from '../../../src/serve/listen.js';
import { parsePriorityTest, priorityPasses } from '../../../src/serve/priority.js';
import { firstMatch } from '../../../src/serve/rules.js';
import { fillParams, MissingFieldError } from '../../../src/serve/template.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const alert = (o: Record<string, unknown> = {}, fields: Record<string, unknown> = {}) =>
  falcoAlert.parse({
    rule: 'Terminal shell in container',
    priority: 'Critical',
    source: 'syscall',
    tags: ['container', 'shell'],
    output_fields: {
      'container.id': 'abcdefabcdef',
      'proc.pid': 4242,
      'proc.cmdline': 'sh -i',
      ...fields,
    },
    ...o,
  });

describe('durations', () => {
  test.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1.5s', 1500],
    ['0', 0],
    [0, 0],
    ['10', undefined],
    [10, undefined],
    ['5 minutes', undefined],
    ['-1s', undefined],
  ])('%p → %p', (v, ms) => expect(parseDuration(v)).toBe(ms));
});

describe('priority tests', () => {
  test.each([
    ['>=Critical', 'Critical', true],
    ['>=Critical', 'Emergency', true],
    ['>=Critical', 'Error', false],
    ['<Warning', 'Notice', true],
    ['<Warning', 'Warning', false],
    ['Error', 'error', true],
    ['=Error', 'Critical', false],
    ['>notice', 'Informational', false],
    ['>=Debug', undefined, false],
    ['>=info', 'Informational', true],
  ])('%s on %s → %s', (t, p, want) => {
    const parsed = parsePriorityTest(t);
    if (typeof parsed === 'string') throw new Error(parsed);
    expect(priorityPasses(parsed, p)).toBe(want);
  });
  test('an unknown priority name is a problem that lists the names', () => {
    expect(parsePriorityTest('>=Severe')).toMatch(/not a Falco priority .*critical/);
  });
});

describe('listen addresses', () => {
  test.each([
    ['127.0.0.1:2803', { kind: 'tcp', host: '127.0.0.1', port: 2803 }],
    ['[::1]:2803', { kind: 'tcp', host: '::1', port: 2803 }],
    ['unix:/run/cirt.sock', { kind: 'unix', path: '/run/cirt.sock' }],
    ['/run/cirt.sock', { kind: 'unix', path: '/run/cirt.sock' }],
  ])('%s', (t, want) => expect(parseListen(t, '/etc')).toMatchObject(want));
  test.each(['2803', 'host:99999', 'a b:1'])('%s is refused', (t) =>
    expect(typeof parseListen(t, '/etc')).toBe('string'),
  );
});

describe('the bearer token', () => {
  test.each([
    ['Bearer s3cret-token-abcdefgh', true],
    ['bearer s3cret-token-abcdefgh', true],
    ['Bearer s3cret-token-abcdefgh ', true],
    ['Bearer s3cret-token-abcdefg', false],
    ['Bearer s3cret-token-abcdefghX', false],
    ['s3cret-token-abcdefgh', false],
    ['Basic s3cret-token-abcdefgh', false],
    [undefined, false],
    ['Bearer ', false],
  ])('%p → %p', (h, ok) => expect(tokenMatches(h, 's3cret-token-abcdefgh')).toBe(ok));
});

describe('params from alert fields: data, never code', () => {
  test('a whole reference keeps the field type; inside text it becomes text; nothing is evaluated', () => {
    const a = alert({}, { 'proc.name': '$(rm -rf /)`id`', 'container.name': 'web' });
    expect(
      fillParams(
        {
          pid: '${proc.pid}',
          note: 'pid ${proc.pid} of ${container.name}',
          cmd: '${proc.name}',
          rule: '${rule}',
          n: 3,
        },
        a,
      ),
    ).toEqual({
      pid: 4242,
      note: 'pid 4242 of web',
      cmd: '$(rm -rf /)`id`',
      rule: 'Terminal shell in container',
      n: 3,
    });
  });
  test('a missing or null field is an error naming it', () => {
    expect(() => fillParams({ x: '${fd.name}' }, alert())).toThrow(MissingFieldError);
    expect(() => fillParams({ x: '${fd.name}' }, alert({}, { 'fd.name': null }))).toThrow(
      /fd\.name/,
    );
  });
});

describe('rules: the first match fires', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-rules-'));
  fs.writeFileSync(path.join(dir, 'token'), 'a-long-enough-token-1234\n');
  fs.writeFileSync(path.join(dir, 'pb.yaml'), 'name: pb\nsteps:\n  - uses: collect:inspect\n');
  const cfg = parseServeConfig(
    `token_file: token
rules:
  - name: healthcheck-excluded
    match: { rule: [Terminal shell in container], output_fields: { proc.cmdline: "sh -c healthcheck" } }
    playbook: pb.yaml
    dry_run: true
  - name: critical-shells
    match:
      rule: [Terminal shell in container, Run shell untrusted]
      priority: ">=Critical"
      tags: [[shell, container], [mitre_persistence]]
      output_fields: { proc.pid: { not: 1 }, user.name: { not_in: [healthcheck] } }
      source: syscall
    playbook: pb.yaml
  - name: anything
    playbook: pb.yaml
`,
    'serve.yaml',
    dir,
  );
  const name = (a: ReturnType<typeof alert>) => firstMatch(cfg.rules, a)?.name;
  test.each([
    ['a critical shell', alert(), 'critical-shells'],
    [
      'the healthcheck (the rule above wins)',
      alert({}, { 'proc.cmdline': 'sh -c healthcheck' }),
      'healthcheck-excluded',
    ],
    ['priority too low', alert({ priority: 'Warning' }), 'anything'],
    ['tags of no group', alert({ tags: ['container'] }), 'anything'],
    ['the other tag group', alert({ tags: ['mitre_persistence'] }), 'critical-shells'],
    [
      'an excluded field value (number compared as text)',
      alert({}, { 'proc.pid': '1' }),
      'anything',
    ],
    ['another source', alert({ source: 'k8s_audit' }), 'anything'],
    ['another rule name', alert({ rule: 'Other' }), 'anything'],
  ])('%s', (_what, a, want) => expect(name(a)).toBe(want));
  test('defaults: 127.0.0.1:2803, dedup 60 s, approvals reject after 5 min', () => {
    expect(cfg.listen).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 2803 });
    expect(cfg.rules[1].dedup).toBe(60_000);
    expect(cfg.approvals).toEqual({ timeout: 300_000, default: 'reject' });
    expect(cfg.snapshots.interval).toBe(10_000);
    expect(cfg.token).toBe('a-long-enough-token-1234');
  });
});
