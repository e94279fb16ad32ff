import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';

/**
 * The layering, checked rather than remembered: reads every import of src/ (static, `export … from`
 * and dynamic `import()`) and fails on a folder-level cycle or a forbidden direction.
 * docs/architecture.md draws the picture these rules keep true.
 */
const SRC = path.resolve('src');

interface Import {
  from: string;
  /** The imported module: a src/-relative file path (relative imports) or the package name. */
  to: string;
  relative: boolean;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Module specifiers of `import … from 'x'`, `import 'x'`, `export … from 'x'` and `import('x')`. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const re =
    /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

function imports(): Import[] {
  return sourceFiles(SRC).flatMap((file) =>
    specifiers(fs.readFileSync(file, 'utf8')).map((spec) => {
      const from = path.relative(SRC, file);
      if (!spec.startsWith('.')) return { from, to: spec, relative: false };
      return {
        from,
        to: path.relative(SRC, path.resolve(path.dirname(file), spec)),
        relative: true,
      };
    }),
  );
}

/** `runner/runner.ts` → `runner`; a file straight under src/ (`errors.ts`) is its own room. */
const folderOf = (rel: string): string => rel.split(path.sep)[0].replace(/\.(js|tsx?)$/, '');

/** Every cycle between folders, each as `a → b → … → a`. */
export function folderCycles(edges: Map<string, Set<string>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (state.get(m) === 'open') cycles.push([...stack.slice(stack.indexOf(m)), m].join(' → '));
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...edges.keys()].sort()) if (!state.has(n)) visit(n);
  return cycles;
}

describe('architecture: the imports of src/ flow one way', () => {
  const all = imports();

  test('the parser sees every form of import', () => {
    const text = [
      "import fs from 'node:fs';",
      "import type { A } from './a.js';",
      "import {\n  b,\n  c,\n} from '../b.js';",
      "export { d } from './d.js';",
      "export * from './e.js';",
      "import './f.js';",
      "const g = await import('../g.js');",
      "/* import nope from './commented.js'; */",
    ].join('\n');
    expect(specifiers(text)).toEqual([
      'node:fs',
      './a.js',
      '../b.js',
      './d.js',
      './e.js',
      './f.js',
      '../g.js',
    ]);
  });

  test('the cycle finder finds a loop and names it', () => {
    const edges = new Map([
      ['evidence', new Set(['findings'])],
      ['findings', new Set(['timeline'])],
      ['timeline', new Set(['evidence'])],
    ]);
    expect(folderCycles(edges)).toEqual(['evidence → findings → timeline → evidence']);
    expect(
      folderCycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
    ).toEqual([]);
  });

  test('no import loop between folders', () => {
    const edges = new Map<string, Set<string>>();
    for (const i of all.filter((x) => x.relative)) {
      const [a, b] = [folderOf(i.from), folderOf(i.to)];
      if (a === b) continue;
      if (!edges.has(a)) edges.set(a, new Set());
      edges.get(a)!.add(b);
    }
    expect(edges.size).toBeGreaterThan(10);
    expect(folderCycles(edges)).toEqual([]);
  });

  test('dockerode and docker-modem are imported only in src/docker/', () => {
    const outside = all.filter(
      (i) =>
        !i.relative &&
        /^(dockerode|docker-modem)(\/|$)/.test(i.to) &&
        folderOf(i.from) !== 'docker',
    );
    expect(outside.map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  });

  test('only the application layer picks the runtime implementation (src/docker/)', () => {
    const users = all.filter(
      (i) =>
        i.relative && folderOf(i.to) === 'docker' && !['docker', 'app'].includes(folderOf(i.from)),
    );
    expect(users.map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  });

  test('the runtime interface and the host readers know nothing of Docker', () => {
    const bad = all.filter(
      (i) =>
        ['runtime', 'host'].includes(folderOf(i.from)) &&
        i.relative &&
        ['docker', 'app', 'cli', 'tui', 'runner', 'actions'].includes(folderOf(i.to)),
    );
    expect(bad.map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  });

  test('nothing outside src/cli imports src/cli (the TUI and the app layer least of all)', () => {
    const bad = all.filter(
      (i) => i.relative && folderOf(i.to) === 'cli' && folderOf(i.from) !== 'cli',
    );
    expect(bad.map((i) => `${i.from} imports ${i.to}`)).toEqual([]);
  });
});
