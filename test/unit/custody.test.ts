import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { CustodyLog, GENESIS, checkChain } from '../../src/evidence/custody.js';

async function chainOf(n: number): Promise<{ file: string; text: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-custody-'));
  const file = path.join(dir, 'custody.jsonl');
  const log = CustodyLog.open(file);
  for (let i = 0; i < n; i++)
    await log.append({
      actor: 'tester',
      action: `a${i}`,
      result: 'ok',
      message: `step ${i}\nwith "quotes" and \u001b[31m`,
    });
  return { file, text: fs.readFileSync(file, 'utf8') };
}

describe('custody chain', () => {
  test('Given a fresh log, records are chained from the genesis hash and verify', async () => {
    const { text } = await chainOf(3);
    const { records, problems } = checkChain(text);
    expect(problems).toEqual([]);
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(records[0].prevHash).toBe(GENESIS);
    expect(records[1].prevHash).toBe(records[0].hash);
  });

  test('Given an existing log, reopening continues the chain', async () => {
    const { file } = await chainOf(2);
    const log = CustodyLog.open(file);
    await log.append({ actor: 'tester', action: 'later', result: 'info' });
    const { records, problems } = checkChain(fs.readFileSync(file, 'utf8'));
    expect(problems).toEqual([]);
    expect(records[2].seq).toBe(3);
  });

  test('Each line hashes with stock tools: sed strips the hash member, sha256sum reproduces it', async () => {
    const { file, text } = await chainOf(2);
    const first = text.split('\n')[0];
    const expected = JSON.parse(first).hash as string;
    const out = execFileSync('sh', [
      '-c',
      `head -n1 '${file}' | sed 's/,"hash":"[0-9a-f]*"}$/}/' | tr -d '\\n' | sha256sum`,
    ]).toString();
    expect(out.split(' ')[0]).toBe(expected);
  });

  test.each([
    [
      'edit a field',
      (l: string[]) => {
        l[1] = l[1].replace('"a1"', '"aX"');
      },
      2,
      /edited/,
    ],
    [
      'remove a record',
      (l: string[]) => {
        l.splice(1, 1);
      },
      2,
      /chain broken/,
    ],
    [
      'swap two records',
      (l: string[]) => {
        [l[0], l[1]] = [l[1], l[0]];
      },
      1,
      /chain broken/,
    ],
    [
      'truncate the hash',
      (l: string[]) => {
        l[2] = l[2].replace(/,"hash":"[0-9a-f]+"\}$/, '}');
      },
      3,
      /no trailing hash/,
    ],
  ])('Tampering (%s) is detected at the right line', async (_name, mutate, line, msg) => {
    const { text } = await chainOf(4);
    const lines = text.trimEnd().split('\n');
    mutate(lines);
    const { problems } = checkChain(`${lines.join('\n')}\n`);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0].line).toBe(line);
    expect(problems.map((p) => p.message).join(' ')).toMatch(msg);
  });

  test('Opening a damaged log refuses to extend it', async () => {
    const { file, text } = await chainOf(2);
    fs.writeFileSync(file, text.replace('"a0"', '"zz"'));
    expect(() => CustodyLog.open(file)).toThrow(/damaged at line 1/);
  });
});
