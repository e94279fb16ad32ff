import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registry } from '../actions/index.js';
import { errorMessage, EXIT, UserError } from '../errors.js';
import { claimNewCase } from '../evidence/case-lock.js';
import { CASE_ID, actor as custodyActor, responder } from '../evidence/case-store.js';
import {
  sealIncident,
  writeIncidentFile,
  type IncidentCase,
  type IncidentManifest,
} from '../evidence/incident.js';
import { loadSigningKey } from '../evidence/sign.js';
import { hashFile } from '../evidence/verify-read.js';
import { checkCapabilities } from '../playbook/capabilities.js';
import { loadPlaybook, resolvePlaybookPath } from '../playbook/load.js';
import { EventBus, now, type PlannedStep, type RunStatus } from '../runner/events.js';
import { RUN_EXIT, type Approval } from '../runner/outcome.js';
import { planSteps, runPlaybook } from '../runner/runner.js';
import { parseFilters } from '../runtime/filters.js';
import { toolVersion } from '../util/pkg.js';
import { safeText } from '../util/sanitize.js';
import { connectEngine, resolveEngines } from './engines.js';
import { casesDirOf, connect, type AppEnv } from './env.js';
import {
  countsText,
  type IncidentEvent,
  type IncidentListener,
  type TargetInfo,
  type TargetOutcome,
} from './incident-events.js';
import { collectFrom, DEFAULT_LIMITS, PhasePlan, type PhaseLimits } from './phases.js';
import { runTargetCase } from './target-run.js';
import {
  DEFAULT_MAX_TARGETS,
  engineNameOf,
  selectTargets,
  type EngineHandle,
  type SelectedTarget,
} from './targets.js';

export interface StartIncidentOptions {
  playbook: string;
  /** `-t` refs (`name`, `id`, or `engine/name`). */
  targets: string[];
  /** `--filter key=value` texts. */
  filters: string[];
  /** Stopped containers count for the filter too (`--all`). */
  all?: boolean;
  maxTargets?: number;
  incidentId?: string;
  title?: string;
  ticket?: string;
  yes?: boolean;
  dryRun?: boolean;
  signKey?: string;
  signal?: AbortSignal;
  listeners?: IncidentListener[];
  /** Asks once for the whole set (yes / skip the asking steps / abort before anything); absent: nobody can answer. */
  approveSet?: (set: { targets: TargetInfo[]; steps: PlannedStep[] }) => Promise<Approval>;
  note?: (text: string) => void;
  /** Engines already connected (the TUI, tests); else `engineNames`, else the one of the environment. */
  engines?: EngineHandle[];
  /** `--engines all|a,b`: the engines to select on (an unreachable one is named; the others go on). */
  engineNames?: string;
  limits?: PhaseLimits;
}

export interface IncidentSummary {
  incidentId: string | null;
  dir: string | null;
  status: 'ok' | 'failed' | 'aborted' | 'planned' | 'declined';
  exitCode: number;
  counts: Partial<Record<RunStatus, number>>;
  message: string;
  targets: TargetOutcome[];
}

const infoOf = (t: SelectedTarget): TargetInfo => ({
  key: `${t.engine.name}/${t.target.id}`,
  engine: t.engine.name,
  id: t.target.id,
  name: t.target.name,
  image: t.target.image,
});

/**
 * A playbook on many containers, in one process: validates everything that needs no engine, picks
 * the set (refused when empty or over --max-targets), asks once for the whole set, then runs every
 * target's case inside one incident folder — containment of all before collection of any — and
 * seals the incident's manifest. One target's failure never stops the others.
 */
export async function startIncident(
  o: StartIncidentOptions,
  env: AppEnv,
): Promise<IncidentSummary> {
  const playbook = loadPlaybook(resolvePlaybookPath(o.playbook, env.cwd), registry);
  const filter = o.filters.length ? parseFilters(o.filters) : undefined;
  const max = o.maxTargets ?? DEFAULT_MAX_TARGETS;
  if (!Number.isInteger(max) || max < 1)
    throw new UserError(`--max-targets must be a whole number of at least 1`);
  if (o.incidentId !== undefined && !CASE_ID.test(o.incidentId))
    throw new UserError(`Incident id "${safeText(o.incidentId)}" is not allowed`, {
      hint: 'Use letters, digits, dot, dash and underscore.',
    });
  const signKey = o.signKey ? path.resolve(env.cwd, o.signKey) : undefined;
  if (signKey) loadSigningKey(signKey);
  const asking = playbook.steps.filter((s) => s.confirm);
  if (!o.dryRun && !o.yes && !o.approveSet && asking.length)
    throw new UserError(
      `Playbook ${playbook.name} has ${asking.length} step(s) that need approval (${asking.map((s) => `"${s.id}" ${s.uses}`).join(', ')}) and nobody can approve them here (no terminal, no --yes); nothing was run`,
      {
        hint: 'Re-run with --yes to approve them for every target, or use --dry-run to see the plan.',
      },
    );

  const { engines, unreachable } = await enginesFor(o, env);
  for (const e of engines)
    checkCapabilities(
      playbook,
      e.runtime.capabilities,
      `engine ${e.name} (${e.runtime.info.address})`,
    );
  const selected = await selectTargets({
    engines,
    refs: o.targets,
    filter,
    all: o.all,
    max,
    onProblem: (t) => o.note?.(`warning: ${t}`),
  });
  for (const u of unreachable)
    o.note?.(
      `warning: engine ${safeText(u.engine)} did not answer (${safeText(u.message)}): its containers are NOT in this run`,
    );
  const infos = selected.map(infoOf);
  const listeners = o.listeners ?? [];
  const emit = (e: IncidentEvent): void => {
    for (const l of listeners) {
      try {
        l(e);
      } catch {
        // A reporter's failure must not stop the run.
      }
    }
  };
  const signal = o.signal ?? new AbortController().signal;
  const splitAt = collectFrom(playbook);
  const steps = planSteps(playbook, selected[0].target);
  const actor = custodyActor();

  if (o.dryRun) {
    emit({
      type: 'incident:start',
      time: now(),
      incidentId: null,
      dir: null,
      dryRun: true,
      playbook: { name: playbook.name, file: playbook.file },
      targets: infos,
      steps,
      collectFrom: splitAt,
    });
    const outcomes: TargetOutcome[] = [];
    for (const [i, t] of selected.entries()) {
      const bus = new EventBus();
      bus.on((event) => emit({ type: 'target:event', time: now(), key: infos[i].key, event }));
      const s = await runPlaybook({
        playbook,
        runtime: t.engine.runtime,
        target: t.target,
        dryRun: true,
        yes: Boolean(o.yes),
        bus,
        signal,
        actor,
      });
      outcomes.push({
        ...infos[i],
        caseId: null,
        caseDir: null,
        status: s.status,
        exitCode: s.exitCode,
        message: s.message,
        bundle: null,
      });
    }
    const summary: IncidentSummary = {
      incidentId: null,
      dir: null,
      status: 'planned',
      exitCode: EXIT.ok,
      counts: { planned: outcomes.length },
      message: `dry run: ${playbook.steps.length} steps planned on each of ${outcomes.length} containers, nothing touched`,
      targets: outcomes,
    };
    emit({ type: 'incident:end', time: now(), ...summary });
    return summary;
  }

  // One answer for the whole set, before anything is touched.
  let answer: Approval | undefined;
  if (asking.length && !o.yes) {
    answer = await o.approveSet!({ targets: infos, steps: steps.filter((s) => s.confirm) });
    if (signal.aborted || answer === 'abort') {
      const summary: IncidentSummary = {
        incidentId: null,
        dir: null,
        status: signal.aborted ? 'aborted' : 'declined',
        exitCode: signal.aborted ? EXIT.interrupted : EXIT.failed,
        counts: {},
        message: `${signal.aborted ? 'interrupted' : 'declined'} at the approval of the whole set: nothing was run on the ${infos.length} containers`,
        targets: [],
      };
      emit({ type: 'incident:end', time: now(), ...summary });
      return summary;
    }
  }

  const casesDir = casesDirOf(env);
  const baseId = o.incidentId ?? defaultIncidentId(playbook.name);
  // The incident folder is claimed like a case folder (mkdir is atomic) and locked for the run.
  const { id, lock } = o.incidentId
    ? claimGiven(casesDir, o.incidentId, playbook.name)
    : claimNewCase(casesDir, baseId, `cirt run ${playbook.name} (incident)`);
  const dir = path.join(casesDir, id);
  try {
    const manifest: IncidentManifest = {
      schema: 'cirt.incident/1',
      id,
      playbook: { name: playbook.name, file: playbook.file },
      ...(o.title ? { title: o.title } : {}),
      ...(o.ticket ? { ticket: o.ticket } : {}),
      responder: responder(),
      host: os.hostname(),
      tool: { name: 'cirt', version: toolVersion() },
      selection: {
        targets: [...o.targets],
        filters: filter ? [...filter.given] : [],
        maxTargets: max,
        engines: engines.map((e) => e.name),
        ...(unreachable.length ? { unreachable } : {}),
      },
      startedAt: now(),
      status: 'running',
      counts: {},
      cases: [],
    };
    writeIncidentFile(dir, manifest);
    emit({
      type: 'incident:start',
      time: now(),
      incidentId: id,
      dir,
      dryRun: false,
      playbook: manifest.playbook,
      targets: infos,
      steps,
      collectFrom: splitAt,
    });
    const phases = new PhasePlan(splitAt, selected.length, o.limits ?? DEFAULT_LIMITS, signal, () =>
      emit({ type: 'incident:collect', time: now(), contained: selected.length }),
    );
    const outcomes = await Promise.all(
      selected.map(async (t, i): Promise<TargetOutcome> => {
        const info = infos[i];
        const pass = phases.forTarget(t.engine.name);
        let out: TargetOutcome;
        try {
          await pass.begin();
          const r = await runTargetCase(t, {
            playbook,
            casesDir: dir,
            env: env.env,
            title: o.title,
            ticket: o.ticket,
            signKey,
            yes: Boolean(o.yes) || answer === 'yes',
            approvedBy: o.yes ? '--yes' : `one approval for incident ${id} (interactive prompt)`,
            answer: o.yes || answer === 'yes' ? undefined : answer,
            signal,
            actor,
            gate: pass.gate,
            onEvent: (event) => emit({ type: 'target:event', time: now(), key: info.key, event }),
          });
          out = {
            ...info,
            caseId: r.caseId,
            caseDir: r.caseDir,
            status: r.status,
            exitCode: r.exitCode,
            message: r.message,
            bundle: r.bundle,
          };
        } catch (err) {
          // Refused (another run holds the container), gone, a full disk: this target only.
          out = {
            ...info,
            caseId: null,
            caseDir: null,
            status: signal.aborted ? 'aborted' : 'failed',
            exitCode: signal.aborted ? EXIT.interrupted : EXIT.failed,
            message: errorMessage(err),
            bundle: null,
          };
        } finally {
          pass.end();
        }
        emit({ type: 'target:end', time: now(), ...out });
        return out;
      }),
    );
    const counts: Partial<Record<RunStatus, number>> = {};
    for (const r of outcomes) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const bad = outcomes.filter((r) => r.status !== 'ok');
    const aborted = signal.aborted || outcomes.some((r) => r.status === 'aborted');
    // An engine that did not answer may hold containers of the set: the incident is not ok.
    const failed = bad.length > 0 || unreachable.length > 0;
    const status = aborted ? 'aborted' : failed ? 'failed' : 'ok';
    const exitCode = aborted ? EXIT.interrupted : failed ? EXIT.failed : EXIT.ok;
    const message =
      `${outcomes.length} containers: ${countsText(counts)}` +
      (bad.length
        ? ` — not ok: ${bad.map((b) => `${safeText(b.name)}@${b.engine} ${b.status}`).join(', ')}`
        : '') +
      (unreachable.length
        ? ` — engine${unreachable.length > 1 ? 's' : ''} ${unreachable.map((u) => safeText(u.engine)).join(', ')} did not answer: not searched`
        : '');
    manifest.cases = await Promise.all(outcomes.map((r) => caseEntry(dir, r, engines)));
    Object.assign(manifest, { finishedAt: now(), status, exitCode, counts, message });
    let sealProblem = '';
    try {
      await sealIncident(dir, manifest, signKey);
    } catch (err) {
      sealProblem = `; the incident manifest could not be sealed: ${errorMessage(err)}`;
    }
    const summary: IncidentSummary = {
      incidentId: id,
      dir,
      status: sealProblem ? 'failed' : status,
      exitCode: sealProblem && exitCode === EXIT.ok ? EXIT.failed : exitCode,
      counts,
      message: message + sealProblem,
      targets: outcomes,
    };
    emit({ type: 'incident:end', time: now(), ...summary });
    return summary;
  } finally {
    lock.release();
  }
}

/** incident.json's entry of one target: the bundle hashed from disk, as SHA256SUMS will list it. */
async function caseEntry(
  dir: string,
  r: TargetOutcome,
  engines: EngineHandle[],
): Promise<IncidentCase> {
  let bundle: IncidentCase['bundle'] = null;
  if (r.bundle && path.dirname(path.resolve(r.bundle)) === path.resolve(dir)) {
    const h = await hashFile(r.bundle);
    bundle = { path: path.basename(r.bundle), sha256: h.sha256, bytes: h.bytes };
  }
  const engine = engines.find((e) => e.name === r.engine);
  return {
    caseId: r.caseId,
    engine: { name: r.engine, address: engine?.runtime.info.address ?? '' },
    target: { id: r.id, name: r.name, image: r.image },
    status: r.status,
    exitCode: r.exitCode ?? RUN_EXIT[r.status],
    message: r.message,
    bundle,
  };
}

/** `<utc-second>-incident-<playbook>`. */
export function defaultIncidentId(playbook: string, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-incident-${playbook.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 60)}`;
}

/** `--incident ID`: a new folder of exactly that name (an incident is never continued). */
function claimGiven(casesDir: string, id: string, playbook: string) {
  if (fs.existsSync(path.join(casesDir, id)))
    throw new UserError(`${path.join(casesDir, id)} exists already`, {
      hint: 'An incident is one run: pick a new --incident id (or leave it out).',
    });
  const claimed = claimNewCase(casesDir, id, `cirt run ${playbook} (incident)`);
  if (claimed.id !== id) {
    claimed.lock.release();
    fs.rmdirSync(path.join(casesDir, claimed.id));
    throw new UserError(`${path.join(casesDir, id)} was made by another cirt just now`, {
      hint: 'Pick a new --incident id.',
    });
  }
  return claimed;
}

/**
 * The engines of the run: given (the TUI), `--engines all|a,b` (each connected in parallel; one
 * that does not answer is left out and named), or the one engine of the environment.
 */
async function enginesFor(
  o: StartIncidentOptions,
  env: AppEnv,
): Promise<{ engines: EngineHandle[]; unreachable: { engine: string; message: string }[] }> {
  if (o.engines) return { engines: o.engines, unreachable: [] };
  if (o.engineNames === undefined) {
    const runtime = await connect(env);
    return { engines: [{ name: engineNameOf(runtime.info), runtime }], unreachable: [] };
  }
  const refs = await resolveEngines(
    { engines: o.engineNames, host: env.host, context: env.context, config: env.config },
    env,
  );
  const tried = await Promise.all(
    refs.map(async (ref) => {
      try {
        const c = await connectEngine(ref);
        return { engine: { name: c.name, runtime: c.runtime } };
      } catch (err) {
        return { failure: { engine: ref.name, message: errorMessage(err) } };
      }
    }),
  );
  const engines = tried.flatMap((t) => (t.engine ? [t.engine] : []));
  const unreachable = tried.flatMap((t) => (t.failure ? [t.failure] : []));
  if (!engines.length)
    throw new UserError(
      `No engine of --engines ${safeText(o.engineNames)} answered: ${unreachable.map((u) => `${safeText(u.engine)} (${safeText(u.message)})`).join('; ')}`,
      { hint: 'Check the engines with `cirt ps --engines …`.' },
    );
  return { engines, unreachable };
}
