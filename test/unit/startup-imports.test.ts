import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';

/**
 * What each command loads before it does anything (issue 12: start-up). Follows the static imports
 * from an entry through src/ (a dynamic `import()` is a boundary: loaded only when reached) and
 * lists the packages met on the way.
 */
const SRC = path.resolve('src');

function staticPackages(entry: string): Set<string> {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    // Comments and type-only imports load nothing; a dynamic import() is not matched below.
    const text = fs
      .readFileSync(file, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/^\s*(?:import|export)\s+type\s[^;]*;/gm, '');
    const specs = [
      ...text.matchAll(/^\s*(?:import|export)\s+(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]/gm),
    ].map((m) => m[1]);
    for (const spec of specs) {
      if (spec.startsWith('.')) {
        const js = path.resolve(path.dirname(file), spec);
        const ts = [js.replace(/\.js$/, '.ts'), js.replace(/\.js$/, '.tsx')].find((f) =>
          fs.existsSync(f),
        );
        if (ts) visit(ts);
      } else if (!spec.startsWith('node:')) {
        packages.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0],
        );
      }
    }
  };
  visit(path.join(SRC, entry));
  return packages;
}

describe('start-up: each path loads only what it uses', () => {
  test('the entry and the command tree (what `cirt --version` loads) import neither Ink/React nor the engine client', () => {
    for (const entry of ['cli/main.ts', 'cli/program.ts']) {
      const pk = staticPackages(entry);
      expect([...pk].sort()).toEqual(['commander']);
    }
  });

  test('`cirt run` does not import Ink or React (only the TUI does, through a dynamic import)', () => {
    const pk = staticPackages('cli/commands/run.ts');
    expect(pk.has('ink')).toBe(false);
    expect(pk.has('react')).toBe(false);
    // The TUI itself does: the check above would see it if the run path reached the TUI.
    expect(staticPackages('tui/launch.tsx').has('ink')).toBe(true);
  });

  test('the application layer reaches the engine client only when it connects (dynamic import)', () => {
    // Engine names are resolved from files first (contexts, cirt's config: yaml); the client itself
    // (dockerode, and DockerRuntime over it) is imported by the connect call.
    const conn = fs.readFileSync(path.join(SRC, 'docker/connection.ts'), 'utf8');
    expect(conn).toContain("await import('dockerode')");
    expect(conn).toContain("await import('./runtime.js')");
    expect([...staticPackages('app/env.ts')]).not.toContain('dockerode');
  });
});
