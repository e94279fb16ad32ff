/**
 * SHA256SUMS in the coreutils format (`sha256sum -c` reads it): `<hex>  <name>` per line. A name
 * holding a backslash or a newline is escaped as coreutils ≥ 8.25 does: the line starts with `\`
 * and the name is written with `\\` for a backslash and `\n` for a newline.
 */

export interface SumEntry {
  name: string;
  sha256: string;
}

/** The three files a SHA256SUMS never lists: itself, its signature and the public key. */
/** Files the case store writes itself (hashed as written): in SHA256SUMS, not in the manifest's artifact list. */
export const BOOKKEEPING = ['case.json', 'custody.jsonl', 'manifest.json'] as const;

/** SHA256SUMS.tsr: the RFC 3161 timestamp over SHA256SUMS (only with --tsa). */
export const UNSUMMED = new Set(['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem', 'SHA256SUMS.tsr']);

/** One line (with its newline). */
export function formatSumLine(sha256: string, name: string): string {
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
  if (!/[\\\n]/.test(name)) return `${sha256}  ${name}\n`;
  return `\\${sha256}  ${name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n`;
}

/** The whole file, sorted by name bytes so the same folder always gives the same text. */
export function formatSums(entries: readonly SumEntry[]): string {
  return [...entries]
    .sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))
    .map((e) => formatSumLine(e.sha256, e.name))
    .join('');
}

export interface ParsedSums {
  entries: Map<string, { sha256: string; line: number }>;
  problems: { line: number; message: string }[];
}

/** Reads a SHA256SUMS text; every malformed or duplicate line is a problem (with its line number). */
export function parseSums(text: string): ParsedSums {
  const entries = new Map<string, { sha256: string; line: number }>();
  const problems: { line: number; message: string }[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  else if (lines.length)
    problems.push({ line: lines.length, message: 'the last line has no newline' });
  lines.forEach((raw, i) => {
    const line = i + 1;
    const m = /^(\\?)([0-9a-f]{64}) [ *](.+)$/.exec(raw);
    if (!m) {
      problems.push({ line, message: 'not a `<sha256>  <name>` line' });
      return;
    }
    let name = m[3];
    if (m[1]) {
      const unescaped = unescapeName(name);
      if (unescaped === null) {
        problems.push({ line, message: 'bad escape in the name' });
        return;
      }
      name = unescaped;
    }
    if (entries.has(name))
      problems.push({
        line,
        message: `the name is listed twice (also line ${entries.get(name)!.line})`,
      });
    else entries.set(name, { sha256: m[2], line });
  });
  return { entries, problems };
}

function unescapeName(s: string): string | null {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    const next = s[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else return null;
  }
  return out;
}
