import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatSumLine, formatSums, parseSums } from '../../src/evidence/sha256sums.js';

const H = 'a'.repeat(64);

describe('SHA256SUMS lines (coreutils format)', () => {
  test.each([
    ['plain name', 'fs/diff.tar', `${H}  fs/diff.tar\n`],
    ['space and pipe stay as they are', 'a b|c', `${H}  a b|c\n`],
    ['backslash: leading \\ and doubled', 'a\\b', `\\${H}  a\\\\b\n`],
    ['newline: leading \\ and \\n', 'a\nb', `\\${H}  a\\nb\n`],
    ['both', 'x\\\ny', `\\${H}  x\\\\\\ny\n`],
  ])('%s', (_what, name, line) => {
    expect(formatSumLine(H, name)).toBe(line);
    expect(parseSums(line).entries.get(name)?.sha256).toBe(H);
  });

  test('a whole file round-trips and is sorted by name bytes', () => {
    const text = formatSums([
      { name: 'b', sha256: H },
      { name: 'a\nnew', sha256: 'b'.repeat(64) },
      { name: 'A', sha256: 'c'.repeat(64) },
    ]);
    expect(text.split('\n')[0]).toBe(`${'c'.repeat(64)}  A`);
    const parsed = parseSums(text);
    expect(parsed.problems).toEqual([]);
    expect([...parsed.entries.keys()]).toEqual(['A', 'a\nnew', 'b']);
  });

  test.each([
    ['short hash', `${'a'.repeat(63)}  x\n`, 'not a `<sha256>  <name>` line'],
    ['bad escape', `\\${H}  a\\tb\n`, 'bad escape in the name'],
    ['duplicate', `${H}  x\n${H}  x\n`, 'the name is listed twice (also line 1)'],
    ['no final newline', `${H}  x`, 'the last line has no newline'],
  ])('rejects %s', (_what, text, message) => {
    expect(parseSums(text).problems.map((p) => p.message)).toContain(message);
  });

  test('GNU sha256sum -c accepts what we write, hostile names included', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-sums-'));
    try {
      const names = [
        'plain.txt',
        'back\\slash',
        'new\nline',
        'pipe | and space',
        'both\\\nof them',
      ];
      const entries = names.map((name, i) => {
        const data = Buffer.from(`content ${i}\n`);
        fs.writeFileSync(path.join(dir, name), data);
        return { name, sha256: createHash('sha256').update(data).digest('hex') };
      });
      fs.writeFileSync(path.join(dir, 'SUMS'), formatSums(entries));
      const out = execFileSync('sha256sum', ['-c', 'SUMS'], { cwd: dir, encoding: 'utf8' });
      expect(out.match(/: OK$/gm)).toHaveLength(names.length);
      // And a changed file makes it fail, so the check above could fail.
      fs.appendFileSync(path.join(dir, 'new\nline'), 'x');
      expect(() =>
        execFileSync('sha256sum', ['-c', '--quiet', 'SUMS'], { cwd: dir, stdio: 'pipe' }),
      ).toThrow();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
