import { clip, safeText, stripEscapes } from '../../src/util/sanitize.js';

describe('safeText', () => {
  test.each([
    ['plain', 'hello world', 'hello world'],
    ['CSI colour', '\u001b[31mred\u001b[0m', '\\x1b[31mred\\x1b[0m'],
    ['OSC title', '\u001b]0;pwned\u0007', '\\x1b]0;pwned\\x07'],
    ['OSC 8 hyperlink', '\u001b]8;;http://x\u001b\\link', '\\x1b]8;;http://x\\x1b\\link'],
    ['newline and CR', 'a\nb\rc', 'a\\nb\\rc'],
    ['C1 CSI', 'x\u009b31my', 'x\\x9b31my'],
    ['bidi override', 'evil\u202eexe.txt', 'evil\\u202eexe.txt'],
    ['DEL and NUL', 'a\u007fb\u0000', 'a\\x7fb\\x00'],
    ['unicode kept', 'café ✓', 'café ✓'],
  ])('%s', (_n, input, expected) => {
    expect(safeText(input)).toBe(expected);

    expect(safeText(input)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  test('clip sanitises before measuring and adds an ellipsis', () => {
    expect(clip('\u001babcdef', 5)).toBe('\\x1b…');
    expect(clip('abc', 5)).toBe('abc');
  });

  test('stripEscapes removes CSI and OSC sequences whole', () => {
    expect(stripEscapes('\u001b[1;31mA\u001b[0m\u001b]0;t\u0007B\u001b]8;;u\u001b\\C')).toBe('ABC');
  });
});
