import { describe, expect, test } from '@jest/globals';
import { loadRules, parseRules, RulesError } from '../../../src/findings/rules.js';

const ok = `version: 1
rules:
  - id: r1
    title: t
    severity: high
    technique: T1059.004
    match:
      exec: {}
`;

function problems(text: string): string[] {
  try {
    parseRules(text, 'rules.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(RulesError);
    return (err as RulesError).problems.map(
      (p) => `${p.line}:${p.col} ${p.rule ? `${p.rule}: ` : ''}${p.message}`,
    );
  }
  throw new Error('expected the rules to be refused');
}

describe('rules loading', () => {
  test('the shipped rules load and cover every matcher kind', () => {
    const set = loadRules();
    expect(set.version).toBe('2026.11-1');
    expect(new Set(set.rules.map((r) => r.kind))).toEqual(
      new Set([
        'fsChange',
        'fsAdded',
        'processFile',
        'setuid',
        'pathBinaryNotInImage',
        'process',
        'exec',
        'socket',
        'listening',
        'env',
        'shellSocket',
        'yara',
        'trafficAttempt',
      ]),
    );
    for (const r of set.rules) expect(r.technique).toMatch(/^T\d{4}(\.\d{3})?$/);
  });

  test('a valid file parses, params defaulted', () => {
    expect(parseRules(ok, 'x').rules[0]).toMatchObject({
      id: 'r1',
      kind: 'exec',
      params: { includeResponder: false },
    });
  });

  test.each<[string, string, RegExp]>([
    ['YAML syntax', 'version: 1\nrules: [\n', /^\d+:\d+ /],
    ['no rules', 'version: 1\nrules: []\n', /rules: .*>=1|rules: Too small/i],
    ['bad severity', ok.replace('high', 'urgent'), /^5:15 r1: severity: /],
    [
      'bad technique',
      ok.replace('T1059.004', 'T59'),
      /^6:16 r1: technique: an ATT&CK technique id/,
    ],
    [
      'unknown matcher',
      ok.replace('exec: {}', 'telepathy: {}'),
      /^8:18 r1: unknown matcher "telepathy" \(known: fsChange, /,
    ],
    [
      'two matcher kinds',
      ok.replace('exec: {}', 'exec: {}\n      setuid: true'),
      /r1: match: match names exactly one matcher kind/,
    ],
    [
      'bad matcher params',
      ok.replace('exec: {}', 'socket: {outbound: true, remotePortNotIn: [99999]}'),
      /^8:50 r1: socket\.remotePortNotIn\.0: /,
    ],
    [
      'unknown param',
      ok.replace('exec: {}', 'exec: {sudo: true}'),
      /r1: exec: Unrecognized key: "sudo"/i,
    ],
    [
      'bad glob',
      ok.replace('exec: {}', 'fsChange: {pathGlob: ["/etc/{a,b"]}'),
      /r1: fsChange\.pathGlob\.0: not a valid glob/,
    ],
    [
      'relative glob',
      ok.replace('exec: {}', 'fsChange: {pathGlob: ["etc/passwd"]}'),
      /a path glob starts with \/ or \*\*/,
    ],
    [
      'bad regex',
      ok.replace('exec: {}', 'env: {secretNamePattern: "(unclosed"}'),
      /env\.secretNamePattern: not a valid regular expression/,
    ],
    [
      'unknown rule key',
      ok.replace('title: t', 'title: t\n    colour: red'),
      /r1: rule: Unrecognized key: "colour"/i,
    ],
  ])('%s is refused with line:col', (_label, text, expected) => {
    expect(problems(text).join('\n')).toMatch(expected);
  });

  test('every problem is reported at once (duplicate id, and a bad rule further down)', () => {
    const text = `${ok}${ok.split('rules:\n')[1]}  - id: r2\n    title: t\n    severity: nope\n    technique: T1\n    match: {exec: {}}\n`;
    const p = problems(text);
    expect(p.some((x) => x.includes('duplicate rule id "r1"'))).toBe(true);
    expect(p.filter((x) => x.includes('r2:'))).toHaveLength(2);
  });

  test('a missing rules file is a user error naming it', () => {
    expect(() => loadRules('/nonexistent/rules.yaml')).toThrow(
      'Cannot read findings rules /nonexistent/rules.yaml',
    );
  });
});
