import type { RecorderStats } from '../journal/recorder.js';

export type { RecorderStats };

/** The service's counters, printed as Prometheus text (names prefixed `cirt_`). */
export class Metrics {
  received = 0;
  /** Refused at the door (401, 413, 400, 503): never recorded, counted by reason. */
  readonly refused = new Map<string, number>();
  matched = 0;
  unmatched = 0;
  deduplicated = 0;
  readonly runs = new Map<string, number>();
  running = 0;
  queued = 0;
  pendingApprovals = 0;
  recorder: (() => RecorderStats | undefined) | undefined;

  refuse(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  run(status: string): void {
    this.runs.set(status, (this.runs.get(status) ?? 0) + 1);
  }

  text(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...lines);
    };
    const one = (name: string, type: string, help: string, v: number): void =>
      metric(name, type, help, [`${name} ${v}`]);
    one('cirt_alerts_received_total', 'counter', 'Alerts accepted (202) and kept.', this.received);
    metric(
      'cirt_alerts_refused_total',
      'counter',
      'Requests refused and not recorded, by reason.',
      [...this.refused].map(([r, n]) => `cirt_alerts_refused_total{reason="${r}"} ${n}`),
    );
    one('cirt_alerts_matched_total', 'counter', 'Alerts a rule matched.', this.matched);
    one('cirt_alerts_unmatched_total', 'counter', 'Alerts no rule matched.', this.unmatched);
    one(
      'cirt_alerts_deduplicated_total',
      'counter',
      'Alerts added to an open case instead of starting a run.',
      this.deduplicated,
    );
    metric(
      'cirt_runs_total',
      'counter',
      'Finished runs, by run status (docs/statuses.md; "refused": the run could not start).',
      [...this.runs].map(([s, n]) => `cirt_runs_total{status="${s}"} ${n}`),
    );
    one('cirt_runs_running', 'gauge', 'Runs in progress.', this.running);
    one('cirt_queue_depth', 'gauge', 'Matched alerts waiting for a run slot.', this.queued);
    one('cirt_approvals_pending', 'gauge', 'Steps waiting for a human.', this.pendingApprovals);
    const r = this.recorder?.();
    one(
      'cirt_recorder_up',
      'gauge',
      'The flight recorder runs and is connected (1) or not (0).',
      r?.connected ? 1 : 0,
    );
    if (r) {
      one(
        'cirt_recorder_lag_seconds',
        'gauge',
        'Age of the newest engine event not yet on disk.',
        r.lagMs / 1000,
      );
      one('cirt_journal_bytes', 'gauge', 'Bytes of the journal on disk.', r.journalBytes);
      one('cirt_recorder_events_total', 'counter', 'Engine events recorded.', r.events);
      one('cirt_recorder_gaps_total', 'counter', 'Gaps recorded (lost engine streams).', r.gaps);
    }
    return `${out.join('\n')}\n`;
  }
}
