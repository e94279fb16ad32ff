import fs from 'node:fs';
import path from 'node:path';
import type { AppEnv } from '../../app/env.js';
import type { ContainerRuntime } from '../../runtime/types.js';
import { readCase } from '../data/case-reader.js';
import { errorText } from '../format.js';
import { TimelineIndex } from '../data/timeline-index.js';
import type { TuiServices } from '../services.js';
import { verifyBundle } from './verifier.js';
import { latestOf } from '../../timeline/artifacts.js';

/**
 * The services the real `cirt` TUI runs with: the app layer (runs, seal, verify, inventory) over one
 * runtime connection shared by the live list and every run. The runtime client, the actions and
 * the runner are imported on first use, after the first frame is on screen.
 */
export function realServices(env: AppEnv): TuiServices {
  let runtime: Promise<ContainerRuntime> | undefined;
  const connect = (): Promise<ContainerRuntime> => {
    runtime ??= import('../../app/env.js')
      .then((m) => m.connect(env))
      .catch((err) => {
        runtime = undefined; // try again next time
        throw err;
      });
    return runtime;
  };
  return {
    watchContainers(onRows, onError) {
      let stop: (() => void) | undefined;
      let stopped = false;
      Promise.all([connect(), import('./containers.js')]).then(
        ([rt, m]) => {
          if (!stopped) stop = m.watchContainers(rt, onRows, onError);
        },
        (err) => onError(errorText(err)),
      );
      return () => {
        stopped = true;
        stop?.();
      };
    },
    async listPlaybooks(target) {
      return (await import('./playbooks.js')).describePlaybooks(env.cwd, target);
    },
    async run(req) {
      const [{ startRun }, rt] = await Promise.all([import('../../app/run.js'), connect()]);
      const r = await startRun(
        {
          playbook: req.playbookFile,
          target: req.targetId,
          meta: req.meta,
          signal: req.signal,
          listeners: [req.onEvent],
          approve: req.approve,
          runtime: rt,
        },
        env,
      );
      return r.exitCode;
    },
    async runIncident(req) {
      const [{ startIncident }, { engineNameOf }, rt] = await Promise.all([
        import('../../app/incident-run.js'),
        import('../../app/targets.js'),
        connect(),
      ]);
      // The set was approved at the TUI's start prompt, which listed it: --yes for its asking steps.
      const r = await startIncident(
        {
          playbook: req.playbookFile,
          targets: req.targetIds,
          filters: [],
          yes: true,
          signal: req.signal,
          listeners: [req.onEvent],
          engines: [{ name: engineNameOf(rt.info), runtime: rt }],
        },
        env,
      );
      return r.exitCode;
    },
    async readCase(dir, bundle) {
      const [data, { caseRow }, { refAt }] = await Promise.all([
        readCase(dir, bundle),
        import('../../app/cases.js'),
        import('../../app/case-ref.js'),
      ]);
      const row = caseRow(refAt(path.dirname(dir), path.basename(dir)));
      return row.problem ? data : { ...data, containment: row.containment.map((c) => c.label) };
    },
    async releasePlan(caseDir) {
      const { describePlan, planReleaseOfCase } = await import('../../app/release-plan.js');
      const plan = planReleaseOfCase(caseDir, env);
      return { changes: plan.undo.length + plan.kept.length > 0, lines: describePlan(plan) };
    },
    async release(caseDir) {
      const [{ releaseById }, rt] = await Promise.all([import('../../app/release.js'), connect()]);
      const { report } = await releaseById(caseDir, env, rt);
      const words = { ok: 'released', noop: 'nothing to release', failed: 'release FAILED' };
      const parts = report.outcomes.map(
        (o) => `${o.action.replace(/^release:/, '')} ${o.keptBy ? 'kept' : o.result}`,
      );
      return {
        ok: report.status !== 'failed',
        line: `${words[report.status]}: ${parts.join(', ')} (recorded in ${report.custodyFile})`,
      };
    },
    openTimeline(caseDir, onProgress, signal) {
      // The newest version: a re-run of the timeline step writes timeline-2.jsonl.
      const dir = path.join(caseDir, 'timeline');
      const names = fs.existsSync(dir) ? fs.readdirSync(dir).map((n) => `timeline/${n}`) : [];
      const file = path.join(
        caseDir,
        latestOf(names, 'timeline/timeline.jsonl') ?? 'timeline/timeline.jsonl',
      );
      if (!fs.existsSync(file))
        throw new Error(
          `No timeline in this case yet (${file}): the evidence:timeline step has not run.`,
        );
      return TimelineIndex.start(
        file,
        (p) => onProgress(p.indexed, p.done, [...p.sources]),
        signal,
      );
    },
    verify: verifyBundle,
    async seal(caseDir) {
      const { sealById } = await import('../../app/seal.js');
      await sealById(
        { caseId: path.basename(caseDir) },
        { ...env, casesDir: path.dirname(caseDir) },
      );
      const bundle = `${caseDir}.tar.gz`;
      if (!fs.existsSync(bundle)) throw new Error(`sealing wrote no ${bundle}`);
      return bundle;
    },
  };
}
