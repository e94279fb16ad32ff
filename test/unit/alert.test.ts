import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { loadAlert } from '../../src/app/alert.js';
import { UserError } from '../../src/errors.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-alert-'));
const file = (name: string, text: string | Buffer): string => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};

const falco = {
  rule: 'Terminal shell in container',
  priority: 'Notice',
  time: '2026-11-28T20:00:00.123456789Z',
  output: 'A shell was spawned in a container \u001b]0;pwned\u0007',
  output_fields: {
    'container.id': 'abc123def456',
    'container.name': 'victim',
    'proc.cmdline': 'sh -i',
  },
  tags: ['container', 'shell'],
};

describe('Falco alerts', () => {
  test('Given a Falco JSON alert, the target is its container.id and the raw bytes are kept', async () => {
    const text = JSON.stringify(falco);
    const a = await loadAlert(file('ok.json', text));
    expect(a.target).toBe('abc123def456');
    expect(a.raw.toString()).toBe(text);
    expect(a.alert.rule).toBe(falco.rule);
  });

  test('From stdin, with container.name only', async () => {
    const body = { ...falco, output_fields: { 'container.name': 'victim' } };
    const a = await loadAlert('-', Readable.from([Buffer.from(JSON.stringify(body))]));
    expect(a.target).toBe('victim');
  });

  test('From a live stdin: the first alert is taken at once, stdin stays open, and a second alert is flagged as more', async () => {
    const stdin = new PassThrough();
    const got = loadAlert('-', stdin);
    stdin.write(`${JSON.stringify(falco)}\n${JSON.stringify({ ...falco, rule: 'second' })}`);
    const a = await got;
    expect(a.alert.rule).toBe(falco.rule);
    expect(a.more).toBe(true);
    expect(a.raw.toString()).toBe(JSON.stringify(falco));
    expect(stdin.destroyed).toBe(false);
    stdin.end();
  });

  test('A file with a trailing newline: the kept bytes are the object, and nothing more is flagged', async () => {
    const a = await loadAlert(file('nl.json', `${JSON.stringify(falco)}\n`));
    expect(a.raw.toString()).toBe(JSON.stringify(falco));
    expect(a.more).toBe(false);
    expect(a).toMatchObject({ id: 'abc123def456', name: 'victim' });
  });

  const withId = (id: unknown): string =>
    JSON.stringify({
      rule: 'r',
      output_fields: { 'container.id': id, 'container.name': 'victim' },
    });
  test.each([
    ['a 64-hex id', 'f'.repeat(64)],
    ['a 12-hex id', '0123456789ab'],
  ])('accepts %s', async (_name, id) => {
    await expect(loadAlert(file('id-ok.json', withId(id)))).resolves.toMatchObject({
      id,
      target: id,
    });
  });

  test.each([
    // [name, content, message, hint]
    [
      'not JSON at all (Falco text output)',
      '20:17:00.1: Notice A shell was spawned',
      /is not a JSON object \(it starts "20:17/,
      /json_output: true/,
    ],
    [
      'invalid JSON inside an object',
      '{rule: "r"}',
      /is not valid JSON/,
      /exactly as Falco writes it/,
    ],
    ['truncated', '{"rule":', /is cut short: the input ended after 8 bytes/, /stopped mid-alert/],
    ['empty', '', /No alert in .*the input is empty/, /one Falco JSON alert/],
    [
      'an array of alerts',
      '[{"rule":"r"}]',
      /a JSON array, not one alert object/,
      /One run takes one alert/,
    ],
    [
      'huge',
      Buffer.concat([Buffer.from('{"o":"'), Buffer.alloc(1024 * 1024, 0x41)]),
      /too large: no complete JSON object within 1048576 bytes/,
      /a few KiB/,
    ],
    [
      'no rule',
      JSON.stringify({ output_fields: { 'container.id': 'x' } }),
      /not a Falco alert: rule/,
      /Expected rule/,
    ],
    [
      'no container',
      JSON.stringify({ rule: 'r', output_fields: { 'proc.name': 'sh' } }),
      /neither container.id nor container.name/,
      /Expected rule/,
    ],
    ['a numeric id', withId(12), /container.id is not a string/, /Expected rule/],
    [
      'host event',
      JSON.stringify({
        rule: 'r',
        output_fields: { 'container.id': 'host', 'container.name': 'host' },
      }),
      /about the host, not a container/,
      /Only container alerts/,
    ],
    [
      'a one-character id',
      withId('a'),
      /container.id "a", which is not a container id \(12 or 64 lowercase hex/,
      /does not guess/,
    ],
    [
      'a 3-character id',
      withId('abc'),
      /container.id "abc", which is not a container id/,
      /does not guess/,
    ],
    ['a 13-character id', withId('0123456789abc'), /not a container id/, /does not guess/],
    ['an upper-case id', withId('0123456789AB'), /not a container id/, /does not guess/],
    [
      'an id with an escape',
      withId('0123456789a\u001b'),
      /container.id "0123456789a\\x1b"/,
      /does not guess/,
    ],
  ])(
    'rejects %s with a user error naming the file and saying what to do',
    async (name, text, msg, hint) => {
      const f = file(`${name.replace(/\W+/g, '-')}.json`, text);
      const err = await loadAlert(f).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).message).toMatch(msg);
      expect((err as UserError).message).toContain(f);
      expect((err as UserError).hint).toMatch(hint);
      // "Turn on json_output" only where it is the right advice (a second alert or a cut one is not that).
      if (!/Falco text output/.test(name))
        expect((err as UserError).hint).not.toMatch(/Falco writes JSON only with json_output/);
    },
  );
});
