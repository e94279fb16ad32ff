import fs from 'node:fs';
import path from 'node:path';
import type { CommandIO, GlobalOptions } from '../../cli/io.js';
import type { ContainerRuntime } from '../../runtime/types.js';
import { readCase } from '../data/case-reader.js';
import { errorText } from '../format.js';
import { TimelineIndex } from '../data/timeline-index.js';
import type { TuiServices } from '../services.js';
import { discard, verifyBundle } from './verifier.js';
import { latestOf } from '../../timeline/artifacts.js';

/**
 * The services the real `cirt` TUI runs with: the engine, the runner, the case folders. The engine
 * client, the actions and the runner are imported on first use, after the first frame is on screen.
 */
export function realServices(g: GlobalOptions, io: CommandIO): TuiServices {
  let engine: Promise<ContainerRuntime> | undefined;
  const connect = (): Promise<ContainerRuntime> => {
    engine ??= import('../../docker/connection.js').then((m) => m.connectRuntime(g.host, io.env)).catch((err) => {
      engine = undefined; // try again next time
      throw err;
    });
    return engine;
  };
  return {
    watchContainers(onRows, onError) {
      let stop: (() => void) | undefined;
      let stopped = false;
      Promise.all([connect(), import('./containers.js')]).then(
        ([e, m]) => {
          if (!stopped) stop = m.watchContainers(e, onRows, onError);
        },
        (err) => onError(errorText(err)),
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
    async listPlaybooks(target) {
      return (await import('./playbooks.js')).describePlaybooks(io.cwd, target);
    },
    async run(req) {
      // The run's own text reporter must not write over the screen: its output is dropped.
      const quiet: CommandIO = { ...io, out: discard(), err: discard(), interactive: false };
      const { runCommand } = await import('../../cli/commands/run.js');
      const r = await runCommand({ ...g, playbook: req.playbookFile, target: req.targetId, signal: req.signal, listeners: [req.onEvent], approve: req.approve }, quiet);
      return r.exitCode;
    },
    readCase: (dir, bundle) => readCase(dir, bundle),
    openTimeline(caseDir, onProgress, signal) {
      // The newest version: a re-run of the timeline step writes timeline-2.jsonl.
      const dir = path.join(caseDir, 'timeline');
      const names = fs.existsSync(dir) ? fs.readdirSync(dir).map((n) => `timeline/${n}`) : [];
      const file = path.join(caseDir, latestOf(names, 'timeline/timeline.jsonl') ?? 'timeline/timeline.jsonl');
      if (!fs.existsSync(file)) throw new Error(`No timeline in this case yet (${file}): the evidence:timeline step has not run.`);
      return TimelineIndex.start(file, (p) => onProgress(p.indexed, p.done, [...p.sources]), signal);
    },
    verify: verifyBundle,
    async seal(caseDir) {
      const { sealCommand } = await import('../../cli/commands/seal.js');
      const quiet: CommandIO = { ...io, out: discard(), err: discard(), interactive: false };
      await sealCommand({ ...g, caseId: path.basename(caseDir), casesDir: path.dirname(caseDir), json: true }, quiet);
      const bundle = `${caseDir}.tar.gz`;
      if (!fs.existsSync(bundle)) throw new Error(`sealing wrote no ${bundle}`);
      return bundle;
    },
  };
}
