import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { compromisedCase, writeCase } from '../fixtures/case-folder.js';

// The built binary on a real pseudo-terminal (util-linux `script`): isTTY is the kernel's, not faked.
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\u009b31m';

/** Runs `cirt args` with stdout and stderr on a pty; `keys` are typed after `delayMs`. Returns what the terminal got. */
function onPty(
  args: string[],
  keys = '',
  delayMs = 0,
): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, MAIN, ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (c: Buffer) => chunks.push(c));
  if (keys) setTimeout(() => child.stdin.write(keys), delayMs);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `cirt ${args.join(' ')} did not end within 60 s: ${Buffer.concat(chunks).toString()}`,
        ),
      );
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** The pty turns LF into CRLF: what remains raw is what cirt sent. */

const RAW = /[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/;

describe('the binary on a real terminal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-pty-'));
  const caseDir = path.join(dir, 'case');

  beforeAll(async () => {
    const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 240_000,
    });
    if (build.status !== 0) throw new Error(`build failed: ${build.stdout}${build.stderr}`);
    const spec = compromisedCase();
    spec.files['logs/stdout.log'] =
      `${spec.files['logs/stdout.log'] as string}2026-11-28T20:00:05.000000000Z hostile ${HOSTILE}\n`;
    const finding = {
      id: 'f1',
      rule: 'r',
      severity: `high${HOSTILE}`,
      title: 't',
      technique: 'T1',
      summary: 's',
      evidence: [],
      events: [],
    };
    spec.files['findings.json'] = { rulesVersion: '1', findings: [finding] };
    fs.mkdirSync(caseDir);
    await writeCase(caseDir, spec);
    fs.writeFileSync(
      path.join(dir, 'hostile.yaml'),
      'name: hostile\nsteps:\n  - uses: "contain:\\e]0;pwned\\a\\e[2J\\x9b31m"\n',
    );
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('cirt timeline --format csv: escaped on the terminal, with a note saying so', async () => {
    const r = await onPty(['timeline', caseDir, '--format', 'csv']);
    expect(r.code).toBe(0);
    expect(r.screen).toContain('hostile \\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m');
    expect(r.screen).toMatch(
      /cirt: note: \d+ control character\(s\) in the output were shown as \\u escapes/,
    );
    expect(r.screen).not.toMatch(RAW);
  }, 90_000);

  test.each([
    ['validate', () => ['validate', path.join(dir, 'hostile.yaml')], 2],
    ['findings', () => ['findings', caseDir], 0],
    // --wide: on a narrow pty the table would cut the message before the escaped title.
    ['timeline (table)', () => ['timeline', caseDir, '--wide'], 0],
  ])(
    'cirt %s: nothing raw reaches the terminal',
    async (_name, args, code) => {
      const r = await onPty(args());
      expect(r.code).toBe(code);
      expect(r.screen).toContain('\\x1b]0;pwned');
      expect(r.screen).not.toMatch(RAW);
    },
    90_000,
  );

  test('the TUI is exempt: Ink draws with its own escape codes (alternate screen, cursor), and q quits', async () => {
    const r = await onPty(['--cases-dir', path.join(dir, 'cases')], 'q', 4_000);
    expect(r.code).toBe(0);
    expect(r.screen).toContain('\u001b[?1049h');
    expect(r.screen).toContain('\u001b[?1049l');
    expect(r.screen).not.toContain('\\u001b');
    expect(r.screen).toContain('Containers');
  }, 90_000);
});
