/**
 * Neutralises attacker-controlled text before it reaches a terminal.
 * Control characters (C0, DEL, C1) and bidi overrides are rendered as visible
 * escapes (`\x1b`, `\u202e`) so a hostile string cannot move the cursor, set
 * the window title or write a hyperlink, yet the responder still sees that
 * something was there.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

export function safeText(input: unknown): string {
  const s = typeof input === 'string' ? input : String(input);
  return s.replace(UNSAFE, (ch) => {
    const code = ch.charCodeAt(0);
    if (ch === '\n') return '\\n';
    if (ch === '\r') return '\\r';
    if (ch === '\t') return '\\t';
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Removes ANSI/OSC escape sequences entirely (for places where the escapes are noise, e.g. search). */
export function stripEscapes(input: string): string {
  return (
    input
      // OSC: ESC ] ... BEL or ESC \
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
      // CSI: ESC [ params final
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '')
      // other two-byte escapes
      // eslint-disable-next-line no-control-regex
      .replace(/\u001b[@-_]/g, '')
  );
}

/** Truncates to at most `max` characters with an ellipsis, after sanitising. */
export function clip(input: string, max: number): string {
  const s = safeText(input);
  if (s.length <= max) return s;
  if (max <= 1) return s.slice(0, max);
  return `${s.slice(0, max - 1)}…`;
}

// What a terminal would act on, but for line feed and tab (the layout of every message and table);
// a CR is kept only as part of CRLF (CSV's line ending), never alone (it would let text overwrite a line).
const TERMINAL_UNSAFE =
  // eslint-disable-next-line no-control-regex
  /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * The last line of defence before a terminal: neutralises every control character but `\n`, `\t`
 * and CRLF, as `\uXXXX`. JSON's own notation, so JSON (`--json`, `--format jsonl`) shown on a
 * terminal stays valid JSON that parses back to the same strings. Returns the text and how many
 * characters were replaced.
 */
export function terminalSafe(text: string): { text: string; replaced: number } {
  let replaced = 0;
  const out = text.replace(TERMINAL_UNSAFE, (ch) => {
    replaced++;
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return { text: out, replaced };
}
