import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { registry } from '../../actions/index.js';
import { runCommand } from '../../cli/commands/run.js';
import type { CommandIO, GlobalOptions } from '../../cli/io.js';
import { connectEngine, type Engine } from '../../docker/connection.js';
import { errorMessage } from '../../engine/errors.js';
import { planSteps } from '../../engine/runner.js';
import { loadPlaybook, PlaybookError } from '../../playbook/load.js';
import { packageRoot } from '../../util/pkg.js';
import { readCase } from '../data/case-reader.js';
import { TimelineIndex } from '../data/timeline-index.js';
import type { TuiServices } from '../services.js';
import type { PlaybookEntry } from '../types.js';
import { watchContainers } from './containers.js';
import { verifyBundle } from './verifier.js';

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
      names = fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).sort();
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

export function describePlaybooks(cwd: string, target: { id: string; name: string }): PlaybookEntry[] {
  return playbookFiles(cwd).map(({ file, origin }) => {
    const name = path.basename(file).replace(/\.ya?ml$/, '');
    try {
      const pb = loadPlaybook(file, registry);
      return { name: pb.name || name, file, origin, description: pb.description.trim(), steps: planSteps(pb, target) };
    } catch (err) {
      const problem = err instanceof PlaybookError ? err.message.split('\n').slice(0, 3).join(' ') : errorMessage(err);
      return { name, file, origin, description: '', steps: [], problem };
    }
  });
}

const discard = (): Writable =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });

/** The services the real `cirt` TUI runs with: the engine, the runner, the case folders. */
export function realServices(g: GlobalOptions, io: CommandIO): TuiServices {
  let engine: Promise<Engine> | undefined;
  const connect = (): Promise<Engine> => {
    engine ??= connectEngine(g.host, io.env).catch((err) => {
      engine = undefined; // try again next time
      throw err;
    });
    return engine;
  };
  return {
    watchContainers(onRows, onError) {
      let stop: (() => void) | undefined;
      let stopped = false;
      connect().then(
        (e) => {
          if (!stopped) stop = watchContainers(e.docker, onRows, onError);
        },
        (err) => onError(errorMessage(err)),
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
    async listPlaybooks(target) {
      return describePlaybooks(io.cwd, target);
    },
    async run(req) {
      // The run's own text reporter must not write over the screen: its output is dropped.
      const quiet: CommandIO = { ...io, out: discard(), err: discard(), interactive: false };
      const r = await runCommand({ ...g, playbook: req.playbookFile, target: req.targetId, signal: req.signal, listeners: [req.onEvent], approve: req.approve }, quiet);
      return r.exitCode;
    },
    readCase: (dir, bundle) => readCase(dir, bundle),
    openTimeline(caseDir, onProgress, signal) {
      const file = path.join(caseDir, 'timeline', 'timeline.jsonl');
      if (!fs.existsSync(file)) throw new Error(`No timeline in this case yet (${file}): the evidence:timeline step has not run.`);
      return TimelineIndex.start(file, (p) => onProgress(p.indexed, p.done, [...p.sources]), signal);
    },
    verify: verifyBundle,
  };
}
