import type { CustodyRecord } from '../evidence/custody.js';
import { isContainment } from '../runner/outcome.js';

/** One containment measure as custody records it. */
export interface Measure {
  seq: number;
  time: string;
  action: string;
  step: string;
  /** `in force`, `declined`, `failed`, `not run`… */
  outcome: string;
  message: string;
}

const IN_FORCE = new Set(['ok', 'noop', 'partial']);

/**
 * What was done to the container, from custody: each contain:* step's last record (its approval
 * is not the measure), declined and never-run ones too, and the state that leaves at sealing.
 */
export function containment(records: readonly CustodyRecord[]): {
  measures: Measure[];
  state: string[];
} {
  const last = new Map<string, CustodyRecord>();
  for (const r of records)
    if (r.step && isContainment(r.action) && r.result !== 'approved') last.set(r.step, r);
  const measures: Measure[] = [...last.values()].map((r) => ({
    seq: r.seq,
    time: r.time,
    action: r.action,
    step: r.step ?? '',
    outcome: IN_FORCE.has(r.result) ? 'in force' : r.result,
    message: r.message ?? '',
  }));
  for (const r of records) {
    const notRun = (r.details as { notRun?: unknown } | undefined)?.notRun;
    if (r.result !== 'declined' || !Array.isArray(notRun)) continue;
    for (const s of notRun as { id?: unknown; uses?: unknown }[])
      if (typeof s?.uses === 'string' && isContainment(s.uses) && !last.has(String(s.id)))
        measures.push({
          seq: r.seq,
          time: r.time,
          action: s.uses,
          step: String(s.id),
          outcome: 'not run',
          message: `the responder stopped the run at step "${r.step ?? '?'}"`,
        });
  }
  const inForce = (action: string): CustodyRecord | undefined =>
    [...last.values()].filter((r) => r.action === action && IN_FORCE.has(r.result)).pop();
  const state: string[] = [];
  const pause = inForce('contain:pause');
  const stopped = inForce('contain:stop') ?? inForce('contain:kill');
  state.push(
    stopped
      ? `stopped (custody #${stopped.seq})`
      : pause
        ? `paused: its processes are frozen (custody #${pause.seq})`
        : 'running: not paused by this case',
  );
  const iso = inForce('contain:network-isolate');
  const q = (iso?.details as { quarantine?: { name?: unknown } } | undefined)?.quarantine;
  state.push(
    iso
      ? `networks: ${typeof q?.name === 'string' ? `only on the quarantine network ${q.name}` : iso.message} (custody #${iso.seq})`
      : 'networks: not isolated by this case: still on its own networks',
  );
  const rp = inForce('contain:restart-policy');
  if (rp) state.push(`${rp.message} (custody #${rp.seq})`);
  const lim = inForce('contain:limit');
  if (lim) state.push(`limits: ${lim.message} (custody #${lim.seq})`);
  return { measures, state };
}

/**
 * Steps the last run planned that left no record at all (skipped after an abort or an interrupt):
 * each is a gap. `current` is the step sealing now (its record comes after the report).
 */
export function skippedSteps(records: readonly CustodyRecord[], current?: string): string[] {
  const start = [...records].reverse().find((r) => r.action === 'run:start');
  if (!start) return [];
  const planned = (start.params as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(planned)) return [];
  const after = records.slice(records.indexOf(start) + 1);
  const seen = new Set(after.map((r) => r.step).filter(Boolean));
  const ended = after.some((r) => r.action === 'run:end');
  // While the run is going (sealed by its own step), later steps may still come: only those before the seal count.
  const upTo = current && !ended ? planned.indexOf(current) : planned.length;
  return planned
    .slice(0, upTo < 0 ? planned.length : upTo)
    .filter((s): s is string => typeof s === 'string' && s !== current && !seen.has(s));
}
