import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { main, reportError } from '../../src/cli/main.js';
import { rawTerminal, TerminalWriter, terminalIO, type CommandIO } from '../../src/cli/io.js';
import { terminalSafe } from '../../src/util/sanitize.js';
import { compromisedCase, writeCase } from '../fixtures/case-folder.js';

/** The hostile bytes of the issue: set the window title, clear the screen, a C1 CSI. */
const HOSTILE = '\u001b]0;pwned\u0007\u001b[2J\u009b31m';
/** Any control character a terminal acts on; LF, TAB and CRLF are layout. */

const RAW = /\r(?!\n)|[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f]/;

/** A terminal as main sees it: isTTY, a width, and everything written kept as text. */
function fakeTty(): PassThrough & { isTTY: true; columns: number; text: () => string } {
  const chunks: Buffer[] = [];
  const s = Object.assign(new PassThrough(), {
    isTTY: true as const,
    columns: 120,
    text: () => Buffer.concat(chunks).toString('utf8'),
  });
  s.on('data', (c: Buffer) => chunks.push(c));
  return s;
}

async function onTerminal(
  argv: string[],
  cwd = process.cwd(),
): Promise<{ code: number; out: string; err: string }> {
  const out = fakeTty();
  const err = fakeTty();
  const code = await main(argv, { out, err, interactive: false, env: {}, cwd });
  return { code, out: out.text(), err: err.text() };
}

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cirt-terminal-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe('nothing raw reaches a terminal', () => {
  test("cirt validate: a playbook's uses: (quoted in the problem label) is shown escaped", async () => {
    const file = join(base, 'hostile.yaml');
    // YAML's double-quoted escapes: \e is ESC, \a is BEL, \x9b is U+009B.
    await writeFile(
      file,
      'name: hostile\nsteps:\n  - uses: "contain:\\e]0;pwned\\a\\e[2J\\x9b31m"\n',
    );
    const r = await onTerminal(['validate', file]);
    expect(r.code).toBe(2);
    expect(r.out + r.err).not.toMatch(RAW);
    expect(r.err).toContain('(contain:\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m)');
    // The same through a pipe: stderr is always made safe.
    const out = new PassThrough();
    const err = new PassThrough();
    const e: Buffer[] = [];
    err.on('data', (c: Buffer) => e.push(c));
    expect(
      await main(['validate', file], { out, err, interactive: false, env: {}, cwd: base }),
    ).toBe(2);
    expect(Buffer.concat(e).toString()).not.toMatch(RAW);
  });

  test('cirt findings: a tampered findings.json with an escape in the severity field (the tally on stderr too)', async () => {
    const dir = join(base, 'findings-case');
    await mkdir(dir);
    const finding = {
      id: 'f1',
      rule: 'r',
      severity: `high${HOSTILE}`,
      title: `t${HOSTILE}`,
      technique: 'T1',
      summary: HOSTILE,
      evidence: [],
      events: [],
    };
    await writeCase(dir, {
      files: {
        'case.json': { schema: 'cirt.case/1', id: 'x' },
        'findings.json': {
          rulesVersion: `v${HOSTILE}`,
          findings: [finding, { ...finding, id: 'f2' }],
        },
      },
    });
    const r = await onTerminal(['findings', dir]);
    expect(r.code).toBe(0);
    expect(r.out + r.err).not.toMatch(RAW);
    expect(r.err).toMatch(/^2 findings \(2 high\\x1b\]0;pwned\\x07\\x1b\[2J\\x9b31m\)/);
  });

  test('an unexpected error: the stack trace quoting the bytes JSON.parse choked on is shown escaped', async () => {
    let thrown: unknown;
    try {
      JSON.parse(`{"severity": ${HOSTILE}}`);
    } catch (e) {
      thrown = e;
    }
    // The stack's first line repeats the message, which quotes the input.
    expect(String((thrown as Error).stack)).toContain('\u001b]0;pwned');
    const err = fakeTty();
    const io = terminalIO({ out: fakeTty(), err, interactive: false, env: {}, cwd: base });
    expect(reportError(thrown, io)).toBe(1);
    expect(err.text()).toMatch(/a bug in cirt/);
    expect(err.text()).toContain('\\x1b]0;pwned');
    expect(err.text()).not.toMatch(RAW);
    // Even without terminalIO (the safeText of each stack line alone).
    const bare = fakeTty();
    reportError(thrown, { out: fakeTty(), err: bare, interactive: false, env: {}, cwd: base });
    expect(bare.text()).not.toMatch(RAW);
  });

  test('a findings.json that is not JSON, with hostile bytes: whatever the command says, nothing raw reaches the terminal', async () => {
    const dir = join(base, 'broken-findings');
    await mkdir(dir);
    await writeCase(dir, {
      files: {
        'case.json': { schema: 'cirt.case/1', id: 'x' },
        'findings.json': `{"findings": [${HOSTILE}`,
      },
    });
    const r = await onTerminal(['findings', dir]);
    expect(r.code).not.toBe(0);
    expect(r.out + r.err).not.toMatch(RAW);
  });

  // The bodyfile escapes control characters itself (its format's \xHH), so it needs no note.
  test.each([
    { format: 'csv', note: true, piped: /\u001b\]0;pwned/ },
    { format: 'jsonl', note: true, piped: /\\u001b\]0;pwned/ },
    { format: 'bodyfile', note: false, piped: /\\x1b\]0;pwned/ },
  ])(
    'cirt timeline --format $format to a terminal: nothing raw (a note says when escaped); to a pipe: as written',
    async ({ format, note, piped }) => {
      const dir = join(base, `timeline-${format}`);
      await mkdir(dir, { recursive: true });
      const spec = compromisedCase();
      spec.files['logs/stdout.log'] =
        `${spec.files['logs/stdout.log'] as string}2026-11-28T20:00:05.000000000Z hostile ${HOSTILE}\n`;
      spec.files['fs/changes.json'] = [
        ...(spec.files['fs/changes.json'] as object[]),
        { Path: `/tmp/${HOSTILE}`, Kind: 1 },
      ];
      await writeCase(dir, spec);
      const r = await onTerminal(['timeline', dir, '--format', format]);
      expect(r.code).toBe(0);
      expect(r.out.length).toBeGreaterThan(500);
      expect(r.out + r.err).not.toMatch(RAW);
      const noted =
        /cirt: note: \d+ control character\(s\) in the output were shown as \\u escapes because stdout is a terminal; redirect it/;
      if (note) expect(r.err).toMatch(noted);
      else expect(r.err).not.toMatch(noted);
      if (format === 'jsonl') {
        // JSON's own notation: what the terminal shows still parses back to the evidence's exact text.
        const shown = r.out
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as { message: string });
        expect(shown.some((e) => e.message.includes(HOSTILE))).toBe(true);
      }
      if (format === 'csv') expect(r.out.split('\r\n').length).toBeGreaterThan(10);
      // Not a terminal: the machine format is exactly as the exporter wrote it.
      const out = new PassThrough();
      const o: Buffer[] = [];
      out.on('data', (c: Buffer) => o.push(c));
      const e: Buffer[] = [];
      const err = new PassThrough();
      err.on('data', (c: Buffer) => e.push(c));
      expect(
        await main(['timeline', dir, '--format', format], {
          out,
          err,
          interactive: false,
          env: {},
          cwd: base,
        }),
      ).toBe(0);
      expect(Buffer.concat(o).toString()).toMatch(piped);
      expect(Buffer.concat(e).toString()).not.toMatch(/control character/);
    },
  );

  test('the table format to a terminal has nothing to escape (safeText made it), so no note', async () => {
    const dir = join(base, 'timeline-csv');
    const r = await onTerminal(['timeline', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('\\x1b]0;pwned');
    expect(r.out + r.err).not.toMatch(RAW);
    expect(r.err).not.toMatch(/control character/);
  });
});

describe('the terminal writer', () => {
  const through = (chunks: (string | Buffer)[]): { text: string; replaced: number } => {
    const sink: string[] = [];
    const raw = Object.assign(new PassThrough(), { columns: 77 });
    raw.on('data', (c: Buffer) => sink.push(c.toString()));
    const w = new TerminalWriter(raw);
    for (const c of chunks) w.write(c);
    w.flushHeld();
    expect(w.columns).toBe(77);
    return { text: sink.join(''), replaced: w.replaced };
  };

  test.each([
    ['keeps LF, TAB and CRLF', ['a\tb\r\nc\n'], 'a\tb\r\nc\n', 0],
    ['a lone CR would overwrite the line', ['safe\rEVIL\n'], 'safe\\u000dEVIL\n', 1],
    ['CRLF split across chunks', ['a\r', '\nb'], 'a\r\nb', 0],
    ['a CR at the very end', ['a\r'], 'a\\u000d', 1],
    ['OSC, CSI, BEL, C1', [HOSTILE], '\\u001b]0;pwned\\u0007\\u001b[2J\\u009b31m', 4],
    [
      'C1 split across Buffer chunks (UTF-8 C2 9B)',
      [Buffer.from([0x61, 0xc2]), Buffer.from([0x9b, 0x62])],
      'a\\u009bb',
      1,
    ],
    ['bidi override', ['evil\u202etxt'], 'evil\\u202etxt', 1],
    ['plain unicode', ['café ✓'], 'café ✓', 0],
  ])('%s', (_name, chunks, text, replaced) => {
    expect(through(chunks)).toEqual({ text, replaced });
  });

  test('terminalIO: stderr always, stdout only when it is a TTY; the TUI and prompts get the raw stream', () => {
    const tty = fakeTty();
    const pipe = new PassThrough();
    const io: CommandIO = terminalIO({
      out: tty,
      err: pipe,
      interactive: false,
      env: {},
      cwd: base,
    });
    expect(io.out).toBeInstanceOf(TerminalWriter);
    expect(io.err).toBeInstanceOf(TerminalWriter);
    expect(rawTerminal(io.out)).toBe(tty);
    // The writer does not pass itself off as a TTY (nothing draws escape codes through it by mistake).
    expect((io.out as { isTTY?: boolean }).isTTY).toBeUndefined();
    const piped = terminalIO({ out: pipe, err: pipe, interactive: false, env: {}, cwd: base });
    expect(piped.out).toBe(pipe);
    expect(terminalIO(io).err).toBe(io.err);
  });

  test('terminalSafe leaves nothing a terminal acts on', () => {
    const all = Array.from({ length: 0xa0 }, (_, i) => String.fromCharCode(i)).join('');
    expect(terminalSafe(all).text).not.toMatch(RAW);
  });
});
