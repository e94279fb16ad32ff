/**
 * Path globs for rules: `*` matches within one path segment, `**` any number of segments (also none),
 * `?` one character, `{a,b}` alternatives. Everything else is literal. Compiled once per rule.
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `/**/` and a trailing `/**` also match zero segments.
        const slashAfter = glob[i + 2] === '/';
        re += slashAfter ? '(?:.*/)?' : '.*';
        i += slashAfter ? 2 : 1;
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = glob.indexOf('}', i);
      if (end === -1) throw new Error(`unclosed { in glob "${glob}"`);
      re += `(?:${glob
        .slice(i + 1, end)
        .split(',')
        .map((alt) => globToRegExp(alt).source.slice(1, -1))
        .join('|')})`;
      i = end;
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** True when `path` is `dir` or inside it. */
export function isUnder(path: string, dir: string): boolean {
  const d = dir.endsWith('/') ? dir.slice(0, -1) : dir;
  return path === d || path.startsWith(`${d}/`);
}
