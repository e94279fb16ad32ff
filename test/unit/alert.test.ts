import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
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
  output_fields: { 'container.id': 'abc123def456', 'container.name': 'victim', 'proc.cmdline': 'sh -i' },
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

  test.each([
    ['not JSON', '{"rule":', /not JSON/],
    ['no rule', JSON.stringify({ output_fields: { 'container.id': 'x' } }), /not a Falco alert: rule/],
    ['no container', JSON.stringify({ rule: 'r', output_fields: { 'proc.name': 'sh' } }), /neither container.id nor container.name/],
    ['host event', JSON.stringify({ rule: 'r', output_fields: { 'container.id': 'host' } }), /not about a container/],
    ['huge', Buffer.alloc(1024 * 1024 + 1, 32), /larger than/],
  ])('rejects %s with a user error naming the file', async (name, text, msg) => {
    const f = file(`${name.replace(/\s/g, '-')}.json`, text);
    const err = await loadAlert(f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(msg);
    expect((err as Error).message).toContain(f);
  });
});
