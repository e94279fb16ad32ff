import type { z } from 'zod';

const KIND: Record<string, string> = {
  array: 'a list',
  object: 'a mapping (key: value lines)',
  record: 'a mapping (key: value lines)',
  string: 'text',
  boolean: 'true or false',
  number: 'a number',
  int: 'a whole number',
};

/** What YAML gave, in the user's words (zod says "received undefined"). */
function given(message: string): string {
  const r = /received (\w+)/.exec(message)?.[1];
  if (!r) return '';
  if (r === 'undefined') return '';
  return ` (it is ${KIND[r] ?? r})`;
}

/**
 * A schema issue in the words of someone writing YAML: "must be a list (it is text)", "is
 * missing", "must be one of a, b", instead of the library's "Invalid input: expected array".
 * A message the schema wrote itself (a regex's description, a custom check) is kept.
 */
export function issueWords(issue: z.core.$ZodIssue): string {
  const m = issue.message;
  switch (issue.code) {
    case 'invalid_type': {
      if (/received undefined/.test(m)) return 'is missing';
      const want = KIND[String(issue.expected)] ?? String(issue.expected);
      return `must be ${want}${given(m)}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (!/^Too small/.test(m)) return m;
      return issue.origin === 'array'
        ? `needs at least ${String(issue.minimum)} item(s)`
        : issue.origin === 'string'
          ? `must not be empty`
          : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      if (!/^Too big/.test(m)) return m;
      return issue.origin === 'array'
        ? `takes at most ${String(issue.maximum)} item(s)`
        : issue.origin === 'string'
          ? `must be at most ${String(issue.maximum)} characters`
          : `must be at most ${String(issue.maximum)}`;
    case 'invalid_format':
      return /^Invalid/.test(m) ? `is not a valid ${issue.format}` : m;
    default:
      return m.replace(/^Invalid input: /, '');
  }
}
