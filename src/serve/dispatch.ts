import { resolveAlertTarget } from '../app/alert-target.js';
import type { AppEnv } from '../app/env.js';
import { startRun } from '../app/run.js';
import { sealById } from '../app/seal.js';
import { CirtError, errorMessage } from '../errors.js';
import { actor as custodyActor, type CaseStore } from '../evidence/case-store.js';
import type { RunEvent } from '../runner/events.js';
import type { ContainerRuntime, Target } from '../runtime/types.js';
import type { AcceptedAlert } from './alert-store.js';
import type { Approvals } from './approvals.js';
import { addToClosedCase, addToLiveCase } from './case-add.js';
import type { ServeConfig, ServeRule } from './config.js';
import type { Metrics } from './metrics.js';
import { firstMatch } from './rules.js';
import { fillParams, MissingFieldError } from './template.js';

/** One engine the service answers alerts on. */
export interface Engine {
  address: string;
  runtime: ContainerRuntime;
}

/** A container's case while the service handles it: the unit of "one run per container" and of dedup. */
interface OpenCase {
  key: string;
  rule: ServeRule;
  target: Target;
  /** When the run ended (while it runs: when it was started); the dedup window counts from here. */
  startedAt: number;
  running: boolean;
  caseId?: string;
  store?: CaseStore;
  /** The seal step has begun: the case's files are being listed and hashed; no more artifacts. */
  sealing: boolean;
  /** Alerts to add once the case can take them (not open yet, or sealing). */
  later: AcceptedAlert[];
  /** Additions to this case, one after another. */
  chain: Promise<void>;
}

/** What the service tells whoever watches (its log, the tests, the bench, the demo). */
export type ServeEvent =
  | {
      type: 'alert';
      alert: AcceptedAlert;
      outcome: 'unmatched' | 'no-container' | 'params' | 'matched' | 'deduplicated' | 'not-run';
      rule?: string;
      caseId?: string;
      message?: string;
    }
  | {
      type: 'run';
      alertId: string;
      rule: string;
      caseId: string | null;
      target: Target;
      event: RunEvent;
    }
  | { type: 'run:refused'; alertId: string; rule: string; target: Target; message: string };

export interface DispatcherDeps {
  config: () => ServeConfig;
  engines: Engine[];
  /** The recorder's journal of each engine (by address), when the service records. */
  journals: Map<string, string>;
  env: AppEnv;
  metrics: Metrics;
  approvals: Approvals;
  emit: (e: ServeEvent) => void;
  log: (line: string) => void;
}

/**
 * From accepted alert to run: the first matching rule, the container (checked on the engines in
 * order, exactly as `cirt run --alert` checks it), then one of: add it to that container's open case
 * (a run is going, or the case is younger than the rule's dedup window), or start a run once a slot
 * of the global `concurrency` is free. One run per container at a time, always.
 */
export class Dispatcher {
  private readonly open = new Map<string, OpenCase>();
  private readonly active = new Set<Promise<void>>();
  private running = 0;
  private readonly waiters: (() => void)[] = [];
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly interrupted = new Set<string>();
  private readonly actor = `${custodyActor()} (cirt serve)`;

  constructor(private readonly d: DispatcherDeps) {}

  get queued(): number {
    return this.waiters.length;
  }

  /** Takes an alert (already kept and answered 202); all the work happens after this returns. */
  submit(a: AcceptedAlert): void {
    const p = this.handle(a).catch((err: unknown) => {
      this.d.log(
        `alert ${a.id}: ${errorMessage(err)}${err instanceof CirtError ? '' : ` (a bug in cirt)\n${(err as Error).stack ?? ''}`}`,
      );
    });
    this.active.add(p);
    void p.finally(() => this.active.delete(p));
  }

  private async handle(a: AcceptedAlert): Promise<void> {
    const cfg = this.d.config();
    const alert = a.loaded.alert;
    const rule = firstMatch(cfg.rules, alert);
    if (!rule) {
      this.d.metrics.unmatched++;
      this.d.emit({ type: 'alert', alert: a, outcome: 'unmatched' });
      return;
    }
    this.d.metrics.matched++;
    let stepParams: ServeRule['params'];
    try {
      stepParams = rule.params ? fillParams(rule.params, alert) : undefined;
    } catch (err) {
      if (!(err instanceof MissingFieldError)) throw err;
      this.d.emit({
        type: 'alert',
        alert: a,
        outcome: 'params',
        rule: rule.name,
        message: `${err.message}: rule "${rule.name}" needs it for its params; nothing was run`,
      });
      return;
    }
    const found = await this.locate(a);
    if (!found) return;
    const { engine, target } = found;
    const key = `${engine.address}\u0000${target.id}`;
    const dryRun = rule.dry_run ?? cfg.dry_run;
    const open = this.open.get(key);
    if (open && (open.running || Date.now() - open.startedAt < open.rule.dedup)) {
      this.d.metrics.deduplicated++;
      this.d.emit({
        type: 'alert',
        alert: a,
        outcome: 'deduplicated',
        rule: open.rule.name,
        caseId: open.caseId,
      });
      if (!dryRun) this.addLater(open, a);
      return;
    }
    if (this.stopping) {
      this.d.emit({
        type: 'alert',
        alert: a,
        outcome: 'not-run',
        rule: rule.name,
        message: 'the service is stopping',
      });
      return;
    }
    const oc: OpenCase = {
      key,
      rule,
      target,
      startedAt: Date.now(),
      running: true,
      sealing: false,
      later: [],
      chain: Promise.resolve(),
    };
    this.open.set(key, oc);
    this.d.emit({ type: 'alert', alert: a, outcome: 'matched', rule: rule.name });
    try {
      if (!(await this.slot())) {
        this.d.emit({
          type: 'alert',
          alert: a,
          outcome: 'not-run',
          rule: rule.name,
          message: 'the service stopped before a run slot was free',
        });
        return;
      }
      try {
        await this.run(a, oc, engine, dryRun, stepParams);
      } finally {
        this.release();
      }
    } finally {
      oc.running = false;
      oc.store = undefined;
      // The window runs from the end of the run: a burst that outlasts the run still joins its case.
      oc.startedAt = Date.now();
      // Alerts that arrived while the case could not take them go in now, after the run.
      for (const later of oc.later.splice(0)) this.addClosed(oc, later);
      await oc.chain;
      // Forget the case once its window has passed, so the map stays bounded.
      const left = oc.startedAt + oc.rule.dedup - Date.now();
      if (left <= 0) this.forget(oc);
      else setTimeout(() => this.forget(oc), left).unref();
    }
  }

  private forget(oc: OpenCase): void {
    if (this.open.get(oc.key) === oc && !oc.running) this.open.delete(oc.key);
  }

  /** The alert's container: on the first engine that has it (its id and name must agree, as for --alert). */
  private async locate(a: AcceptedAlert): Promise<{ engine: Engine; target: Target } | undefined> {
    const reasons: string[] = [];
    for (const engine of this.d.engines) {
      try {
        return { engine, target: await resolveAlertTarget(engine.runtime, a.loaded) };
      } catch (err) {
        reasons.push(`${engine.address}: ${errorMessage(err)}`);
      }
    }
    this.d.emit({ type: 'alert', alert: a, outcome: 'no-container', message: reasons.join('; ') });
    return undefined;
  }

  private async run(
    a: AcceptedAlert,
    oc: OpenCase,
    engine: Engine,
    dryRun: boolean,
    stepParams: ServeRule['params'],
  ): Promise<void> {
    const cfg = this.d.config();
    const { rule, target } = oc;
    const listener = (event: RunEvent): void => {
      if (event.type === 'run:start') oc.caseId = event.caseId ?? undefined;
      if (event.type === 'step:start' && event.uses === 'evidence:seal') oc.sealing = true;
      this.d.emit({
        type: 'run',
        alertId: a.id,
        rule: rule.name,
        caseId: oc.caseId ?? null,
        target,
        event,
      });
    };
    try {
      const summary = await startRun(
        {
          playbook: rule.playbookFile,
          loadedAlert: a.loaded,
          title: `Falco: ${a.loaded.alert.rule} (cirt serve rule "${rule.name}")`,
          yes: rule.auto_approve,
          dryRun,
          signKey: cfg.sign_key,
          signal: this.abort.signal,
          runtime: engine.runtime,
          stepParams,
          journal: this.d.journals.get(engine.address),
          listeners: [listener],
          approve: (step) =>
            this.d.approvals.ask({
              alertId: a.id,
              rule: rule.name,
              caseId: oc.caseId ?? null,
              container: { id: target.id, name: target.name },
              step,
            }),
          note: (text) => this.d.log(`alert ${a.id}: ${text}`),
          onCase: (store) => {
            oc.store = store;
            oc.caseId = store.id;
            for (const later of oc.later.splice(0)) this.addLive(oc, later);
          },
        },
        { ...this.d.env, host: engine.address, casesDir: cfg.casesDir },
      );
      this.d.metrics.run(summary.status);
      if (summary.status === 'aborted' && oc.caseId && this.stopping)
        this.interrupted.add(oc.caseId);
    } catch (err) {
      if (!(err instanceof CirtError)) throw err;
      this.d.metrics.run('refused');
      this.d.emit({
        type: 'run:refused',
        alertId: a.id,
        rule: rule.name,
        target,
        message: err.message,
      });
    }
  }

  private addLater(oc: OpenCase, a: AcceptedAlert): void {
    if (oc.running && oc.store && !oc.sealing) this.addLive(oc, a);
    else if (oc.running) oc.later.push(a);
    else this.addClosed(oc, a);
  }

  private addLive(oc: OpenCase, a: AcceptedAlert): void {
    const store = oc.store;
    if (!store) return void oc.later.push(a);
    oc.chain = oc.chain.then(() =>
      addToLiveCase(store, a, oc.rule.name, this.actor).catch((err: unknown) => {
        // The seal may have begun between the check and the write: the alert goes in after the run.
        if (oc.running) oc.later.push(a);
        else
          this.d.log(`alert ${a.id}: could not be added to case ${store.id}: ${errorMessage(err)}`);
      }),
    );
  }

  private addClosed(oc: OpenCase, a: AcceptedAlert): void {
    const caseId = oc.caseId;
    if (!caseId) return;
    const casesDir = this.d.config().casesDir;
    oc.chain = oc.chain.then(async () => {
      try {
        await addToClosedCase(casesDir, caseId, a, oc.rule.name, this.actor);
      } catch (err) {
        this.d.log(`alert ${a.id}: could not be added to case ${caseId}: ${errorMessage(err)}`);
      }
    });
  }

  private slot(): Promise<boolean> {
    const limit = this.d.config().concurrency;
    if (this.running < limit) {
      this.running++;
      this.sync();
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      this.waiters.push(() => {
        if (this.stopping) return resolve(false);
        this.running++;
        this.sync();
        resolve(true);
      });
      this.sync();
    });
  }

  private release(): void {
    this.running--;
    this.sync();
    while (this.waiters.length && this.running < this.d.config().concurrency)
      this.waiters.shift()!();
    this.sync();
  }

  private sync(): void {
    this.d.metrics.running = this.running;
    this.d.metrics.queued = this.waiters.length;
  }

  /**
   * Stops taking work: alerts waiting for a slot are not run; steps waiting for approval get
   * "abort" (the run stops there and ends declined); running steps may finish for `timeoutMs`, then
   * are interrupted. Runs interrupted this way are sealed. Resolves when all is done.
   */
  async drain(timeoutMs: number): Promise<{ interrupted: string[]; sealed: string[] }> {
    this.stopping = true;
    for (const w of this.waiters.splice(0)) w();
    this.sync();
    this.d.approvals.closeAll({
      answer: 'abort',
      by: 'cirt serve: the service is stopping (SIGTERM); the step was not approved',
    });
    const timer = setTimeout(
      () => this.abort.abort(new Error('cirt serve is stopping (SIGTERM): drain_timeout passed')),
      timeoutMs,
    );
    timer.unref();
    while (this.active.size) await Promise.allSettled([...this.active]);
    clearTimeout(timer);
    await Promise.allSettled([...this.open.values()].map((o) => o.chain));
    const sealed: string[] = [];
    for (const caseId of this.interrupted) {
      try {
        await sealById(
          { caseId, signKey: this.d.config().sign_key },
          { ...this.d.env, casesDir: this.d.config().casesDir },
        );
        sealed.push(caseId);
      } catch (err) {
        this.d.log(`case ${caseId}: could not be sealed: ${errorMessage(err)}`);
      }
    }
    return { interrupted: [...this.interrupted], sealed };
  }

  /** Resolves once every alert taken so far is fully handled (tests, the bench). */
  async idle(): Promise<void> {
    while (this.active.size) await Promise.allSettled([...this.active]);
    await Promise.allSettled([...this.open.values()].map((o) => o.chain));
  }
}
