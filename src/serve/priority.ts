/** Falco's priorities, least severe first (falco `falco_common::priority_type`). */
export const PRIORITIES = [
  'debug',
  'informational',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
] as const;

const ALIASES: Record<string, number> = { info: 1 };

/** The rank of a priority name (case-insensitive), or undefined for a name Falco does not use. */
export function priorityRank(name: string): number | undefined {
  const n = name.trim().toLowerCase();
  const i = (PRIORITIES as readonly string[]).indexOf(n);
  return i >= 0 ? i : ALIASES[n];
}

export type Comparator = '>=' | '<=' | '>' | '<' | '=';

export interface PriorityTest {
  op: Comparator;
  rank: number;
  text: string;
}

/** `>=Critical`, `<warning`, `Error` (equal): parsed, or a message saying what is wrong. */
export function parsePriorityTest(text: string): PriorityTest | string {
  const m = /^\s*(>=|<=|==|=|>|<)?\s*([A-Za-z]+)\s*$/.exec(text);
  if (!m) return `"${text}" is not a priority test: write e.g. ">=Critical", "<Warning" or "Error"`;
  const rank = priorityRank(m[2]);
  if (rank === undefined)
    return `"${m[2]}" is not a Falco priority (one of ${PRIORITIES.join(', ')})`;
  const op = (m[1] === '==' ? '=' : (m[1] ?? '=')) as Comparator;
  return { op, rank, text: text.trim() };
}

/** Whether an alert's priority passes; an alert without a (known) priority passes no test. */
export function priorityPasses(t: PriorityTest, priority: string | undefined): boolean {
  const r = priority === undefined ? undefined : priorityRank(priority);
  if (r === undefined) return false;
  switch (t.op) {
    case '>=':
      return r >= t.rank;
    case '<=':
      return r <= t.rank;
    case '>':
      return r > t.rank;
    case '<':
      return r < t.rank;
    case '=':
      return r === t.rank;
  }
}
