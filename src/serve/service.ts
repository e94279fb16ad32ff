import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { connect, type AppEnv } from '../app/env.js';
import { errorMessage } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { AlertStore, type Intake } from './alert-store.js';
import { Approvals } from './approvals.js';
import { loadServeConfig, type ServeConfig } from './config.js';
import { Dispatcher, type Engine, type ServeEvent } from './dispatch.js';
import { createApiServer, listen } from './http.js';
import { readAlertLines } from './lines.js';
import { Metrics, type RecorderStats } from './metrics.js';
import { describeEvent } from './log.js';
import { startRecorder, type Recorder } from '../journal/recorder.js';

export interface ServiceOptions {
  configFile: string;
  env: AppEnv;
  /** `--alerts -|FILE|FIFO`: Falco JSON lines, besides HTTP. */
  alerts?: string;
  stdin?: Readable;
  /** The service's log (one line each; already made safe for a terminal). */
  log: (line: string) => void;
  /** Everything the service does, for whoever watches (tests, bench, demo). */
  onEvent?: (e: ServeEvent) => void;
  /** A config already loaded (the CLI checks it before anything starts). */
  config?: ServeConfig;
  /** The flight recorder's stats, for /metrics and /healthz, when one runs. */
  recorder?: () => RecorderStats | undefined;
}

export interface Service {
  /** Where it listens: `http://127.0.0.1:2803`, `unix:/run/cirt.sock`. */
  url: string;
  config(): ServeConfig;
  metrics: Metrics;
  approvals: Approvals;
  /** SIGHUP: reads the config again; a bad file keeps the running one (the reason is logged and returned). */
  reload(): { ok: true } | { ok: false; message: string };
  /** SIGTERM: stop taking alerts, let running steps finish (up to drain_timeout), seal the interrupted. */
  stop(): Promise<{ interrupted: string[]; sealed: string[] }>;
  /** Resolves when every alert taken so far is handled. */
  idle(): Promise<void>;
  /** Resolves when the `--alerts` stream has ended (at once without one). */
  alertsDone: Promise<void>;
}

/** The file a running service names its address in. */
export function serviceFile(stateDir: string): string {
  return path.join(stateDir, 'service.json');
}

/** Starts `cirt serve`: config checked, engines connected, then the port opened. */
export async function startService(o: ServiceOptions): Promise<Service> {
  let cfg = o.config ?? loadServeConfig(o.configFile, o.env.cwd);
  const metrics = new Metrics();
  const addresses = cfg.engines ?? [o.env.host];
  const engines: Engine[] = [];
  for (const host of addresses) {
    const runtime = await connect({ ...o.env, host });
    engines.push({ address: runtime.info.address, runtime });
  }
  // The flight recorder runs from the start, before any alert: one journal per engine.
  const recorders: Recorder[] = [];
  const journals = new Map<string, string>();
  if (cfg.journal) {
    const j = cfg.journal;
    for (const [i, e] of engines.entries()) {
      const dir = i === 0 ? j.dir : path.join(j.dir, `engine-${i + 1}`);
      recorders.push(
        await startRecorder({
          runtime: e.runtime,
          engineName: e.address,
          dir,
          segmentBytes: j.segment_size,
          segmentMaxAgeMs: j.segment_age,
          retention: { maxAgeMs: j.max_age, maxBytes: j.max_bytes },
          snapshotIntervalMs: cfg.snapshots.interval,
          signKey: cfg.sign_key,
          onWarning: (m) => o.log(safeText(`recorder ${e.address}: ${m}`)),
        }),
      );
      journals.set(e.address, dir);
    }
  }
  const recorderStats = (): RecorderStats | undefined => {
    if (!recorders.length) return o.recorder?.();
    const all = recorders.map((r) => r.stats());
    return {
      events: all.reduce((n, r) => n + r.events, 0),
      snapshots: all.reduce((n, r) => n + r.snapshots, 0),
      gaps: all.reduce((n, r) => n + r.gaps, 0),
      journalBytes: all.reduce((n, r) => n + r.journalBytes, 0),
      lagMs: Math.max(...all.map((r) => r.lagMs)),
      connected: all.every((r) => r.connected),
    };
  };
  metrics.recorder = recorderStats;
  const store = new AlertStore(cfg.stateDir);
  const approvals = new Approvals(
    () => cfg.approvals,
    (n) => (metrics.pendingApprovals = n),
  );
  const emit = (e: ServeEvent): void => {
    const line = describeEvent(e);
    if (line) o.log(line);
    try {
      o.onEvent?.(e);
    } catch {
      // A watcher's failure must not stop the service.
    }
  };
  const dispatcher = new Dispatcher({
    config: () => cfg,
    engines,
    journals,
    env: o.env,
    metrics,
    approvals,
    emit,
    log: (l) => o.log(safeText(l)),
  });
  let stopping = false;
  const take = (raw: Buffer, from: string, t0: number): Intake => {
    const r = store.take(raw, from, t0);
    if (r.kind === 'accepted') {
      metrics.received++;
      o.log(
        safeText(
          `alert ${r.alert.id} (${from}): rule "${r.alert.loaded.alert.rule}", ${r.alert.loaded.alert.priority ?? 'no priority'}, container ${r.alert.loaded.target}, sha256 ${r.alert.sha256}`,
        ),
      );
      // Answered first, worked on after: the sender's 202 never waits for the engine.
      setImmediate(() => dispatcher.submit(r.alert));
    }
    return r;
  };
  const server: http.Server = createApiServer({
    config: () => cfg,
    metrics,
    take,
    accepting: () =>
      stopping
        ? { ok: false, why: 'the service is stopping' }
        : dispatcher.queued >= cfg.limits.queue
          ? {
              ok: false,
              why: `${dispatcher.queued} alerts are waiting for a run slot (limits.queue)`,
            }
          : { ok: true },
    pending: () => approvals.list(),
    decide: (id, answer, by) => approvals.decide(id, answer, by),
    health: () => ({
      status: stopping ? 'stopping' : 'ok',
      engines: engines.map((e) => e.address),
      rules: cfg.rules.length,
      running: metrics.running,
      queued: metrics.queued,
      pending: metrics.pendingApprovals,
      recorder: recorderStats() ?? null,
    }),
  });
  const url = await listen(server, cfg);
  // Where `cirt pending|approve|reject` find this service (the port, when listen asked for any free one).
  const where = serviceFile(cfg.stateDir);
  fs.writeFileSync(
    where,
    `${JSON.stringify({ url, pid: process.pid, startedAt: new Date().toISOString() })}\n`,
    { mode: 0o600 },
  );
  o.log(
    `listening on ${url}; ${cfg.rules.length} rule(s); engines ${engines.map((e) => e.address).join(', ')}; cases in ${cfg.casesDir}${cfg.dry_run ? '; dry_run: nothing will be touched' : ''}`,
  );

  const lines = new AbortController();
  const alertsDone = o.alerts
    ? readAlertLines({
        source: o.alerts,
        limit: cfg.limits.body,
        stdin: o.stdin,
        signal: lines.signal,
        onLine: (raw, where, t0) => {
          if (stopping) return o.log(safeText(`${where}: not taken, the service is stopping`));
          const r = take(raw, where, t0);
          if (r.kind === 'bad') {
            metrics.refuse('bad-alert');
            o.log(safeText(`${where}: not an alert, skipped: ${r.message}`));
          }
        },
        onProblem: (m) => o.log(safeText(m)),
      }).catch((err: unknown) => o.log(safeText(`--alerts ${o.alerts}: ${errorMessage(err)}`)))
    : Promise.resolve();

  return {
    url,
    config: () => cfg,
    metrics,
    approvals,
    reload() {
      try {
        const next = loadServeConfig(o.configFile, o.env.cwd);
        const kept: string[] = [];
        if (next.listen.text !== cfg.listen.text || Boolean(next.tls) !== Boolean(cfg.tls))
          kept.push('listen/tls (a restart changes them)');
        if (JSON.stringify(next.engines ?? null) !== JSON.stringify(cfg.engines ?? null))
          kept.push('engines (a restart changes them)');
        if (next.stateDir !== cfg.stateDir) kept.push('state_dir (a restart changes it)');
        cfg = {
          ...next,
          listen: cfg.listen,
          tls: cfg.tls,
          engines: cfg.engines,
          stateDir: cfg.stateDir,
        };
        o.log(
          `config reloaded from ${cfg.file}: ${cfg.rules.length} rule(s)${kept.length ? `; kept as they were: ${kept.join(', ')}` : ''}`,
        );
        return { ok: true };
      } catch (err) {
        const message = errorMessage(err);
        o.log(
          safeText(`config NOT reloaded, the running one stays: ${message}`).replace(/\\n/g, '\n'),
        );
        return { ok: false, message };
      }
    },
    async stop() {
      stopping = true;
      lines.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections?.();
      o.log(
        `stopping: no new alerts; ${metrics.running} run(s) finishing (drain_timeout ${cfg.drain_timeout} ms), ${metrics.queued} queued alert(s) will not run`,
      );
      const r = await dispatcher.drain(cfg.drain_timeout);
      server.closeAllConnections?.();
      await closed;
      // The recorder stops last: it records the service's own drain too.
      for (const r of recorders)
        await r
          .stop()
          .catch((err: unknown) => o.log(safeText(`recorder ${r.dir}: ${errorMessage(err)}`)));
      for (const e of engines) await e.runtime.close?.();
      fs.rmSync(where, { force: true });
      o.log(
        `stopped${r.interrupted.length ? `; interrupted and sealed: ${r.sealed.join(', ') || 'none'} of ${r.interrupted.join(', ')}` : ''}`,
      );
      return r;
    },
    idle: () => dispatcher.idle(),
    alertsDone,
  };
}
