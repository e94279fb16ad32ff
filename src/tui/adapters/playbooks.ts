import fs from 'node:fs';
import path from 'node:path';
import { registry } from '../../actions/index.js';
import { errorMessage } from '../../errors.js';
import { planSteps } from '../../runner/runner.js';
import { loadPlaybook, PlaybookError } from '../../playbook/load.js';
import { packageRoot } from '../../util/pkg.js';
import type { PlaybookEntry } from '../types.js';

/** The playbook files the picker offers: ./playbooks first (it wins on a name clash, as `cirt run` resolves). */
export function playbookFiles(cwd: string): { file: string; origin: PlaybookEntry['origin'] }[] {
  const seen = new Set<string>();
  const out: { file: string; origin: PlaybookEntry['origin'] }[] = [];
  const dirs: [string, PlaybookEntry['origin']][] = [
    [path.join(cwd, 'playbooks'), 'local'],
    [path.join(packageRoot(), 'playbooks'), 'shipped'],
  ];
  for (const [dir, origin] of dirs) {
    let names: string[] = [];
    try {
      names = fs
        .readdirSync(dir)
        .filter((n) => /\.ya?ml$/.test(n))
        .sort();
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(dir, n);
      const key = n.replace(/\.ya?ml$/, '');
      if (seen.has(key) || seen.has(fs.realpathSync(file))) continue;
      seen.add(key);
      seen.add(fs.realpathSync(file));
      out.push({ file, origin });
    }
  }
  return out;
}

export function describePlaybooks(
  cwd: string,
  target: { id: string; name: string },
): PlaybookEntry[] {
  return playbookFiles(cwd).map(({ file, origin }) => {
    const name = path.basename(file).replace(/\.ya?ml$/, '');
    try {
      const pb = loadPlaybook(file, registry);
      return {
        name: pb.name || name,
        file,
        origin,
        description: pb.description.trim(),
        steps: planSteps(pb, target),
      };
    } catch (err) {
      const problem =
        err instanceof PlaybookError
          ? err.message.split('\n').slice(0, 3).join(' ')
          : errorMessage(err);
      return { name, file, origin, description: '', steps: [], problem };
    }
  });
}
