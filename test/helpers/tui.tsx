import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { render } from 'ink-testing-library';
import type { PlannedStep, RunEvent } from '../../src/runner/events.js';
import type { Approval } from '../../src/runner/outcome.js';
import { App } from '../../src/tui/App.js';
import { TimelineIndex } from '../../src/tui/data/timeline-index.js';
import type { ReleasePreview, RunRequest, TuiServices } from '../../src/tui/services.js';
import type { TuiAction } from '../../src/tui/state/actions.js';
import { initialState } from '../../src/tui/state/reducer.js';
import { themeFor } from '../../src/tui/theme.js';
import type {
  CaseData,
  ContainerRow,
  PlaybookEntry,
  TimelineEvent,
  VerifyOutcome,
} from '../../src/tui/types.js';

/** Services that the test drives by hand: push container lists, emit run events, answer reads. */
export class FakeServices implements TuiServices {
  onRows?: (rows: ContainerRow[]) => void;
  playbooks: PlaybookEntry[] = [];
  runs: RunRequest[] = [];
  approvals: { step: string; answer: Promise<Approval> }[] = [];
  cases = new Map<string, CaseData>();
  verified: string[] = [];
  verifyOutcome: VerifyOutcome = { ok: true, lines: ['SHA256SUMS: all files OK'] };
  private finishRun?: (code: number) => void;

  watchContainers(onRows: (rows: ContainerRow[]) => void): () => void {
    this.onRows = onRows;
    return () => {
      this.onRows = undefined;
    };
  }

  async listPlaybooks(): Promise<PlaybookEntry[]> {
    return this.playbooks;
  }

  run(req: RunRequest): Promise<number> {
    this.runs.push(req);
    return new Promise((resolve) => {
      this.finishRun = resolve;
    });
  }

  /** Emits an engine event into the current run. */
  emit(e: RunEvent): void {
    this.runs[this.runs.length - 1].onEvent(e);
  }

  /** Asks for approval the way the runner does (step:confirm, then approve()). */
  ask(step: PlannedStep): Promise<Approval> {
    const r = this.runs[this.runs.length - 1];
    r.onEvent({
      type: 'step:confirm',
      time: new Date().toISOString(),
      stepId: step.id,
      uses: step.uses,
      plan: step.plan,
    });
    const answer = r.approve(step);
    this.approvals.push({ step: step.id, answer });
    return answer;
  }

  endRun(code: number): void {
    this.finishRun?.(code);
  }

  async readCase(dir: string): Promise<CaseData> {
    const c = this.cases.get(dir);
    if (!c) throw new Error(`no case at ${dir}`);
    return c;
  }

  openTimeline(
    dir: string,
    onProgress: (indexed: number, done: boolean, sources: string[]) => void,
    signal: AbortSignal,
  ): TimelineIndex {
    return TimelineIndex.start(
      path.join(dir, 'timeline', 'timeline.jsonl'),
      (p) => onProgress(p.indexed, p.done, [...p.sources]),
      signal,
    );
  }

  sealedDirs: string[] = [];

  async seal(dir: string): Promise<string> {
    this.sealedDirs.push(dir);
    return `${dir}.tar.gz`;
  }

  async verify(bundle: string): Promise<VerifyOutcome> {
    this.verified.push(bundle);
    return this.verifyOutcome;
  }

  /** What releasePlan answers, and the cases released so far. */
  plan: ReleasePreview = { changes: false, lines: ['Release case x', '  nothing'] };
  releasedDirs: string[] = [];

  async releasePlan(): Promise<ReleasePreview> {
    return this.plan;
  }

  async release(dir: string): Promise<{ ok: boolean; line: string }> {
    this.releasedDirs.push(dir);
    const c = this.cases.get(dir);
    if (c) this.cases.set(dir, { ...c, containment: [] });
    return { ok: true, line: 'released: network-isolate ok, unpause ok' };
  }
}

/** Renders the whole app at 80×24 without colour (`color: true` for the colour theme), with the given services. */
export function renderApp(
  services: TuiServices,
  opts: { columns?: number; rows?: number; startWith?: TuiAction[]; color?: boolean } = {},
) {
  const size = { columns: opts.columns ?? 80, rows: opts.rows ?? 24 };
  return render(
    <App
      services={services}
      initial={initialState(size)}
      theme={themeFor(opts.color ? {} : { NO_COLOR: '1' })}
      fixedSize
      startWith={opts.startWith}
    />,
  );
}

/** Polls until `check` passes (Ink renders asynchronously); fails with the last frame after `ms`. */
export async function until(
  frame: () => string | undefined,
  check: (f: string) => boolean,
  ms = 3000,
): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const f = frame() ?? '';
    if (check(f)) return f;
    if (Date.now() > end) throw new Error(`timed out; last frame:\n${f}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const KEY = {
  up: '\x1b[A',
  down: '\x1b[B',
  enter: '\r',
  esc: '\x1b',
  ctrlC: '\x03',
  backspace: '\x7f',
  end: '\x1b[F',
  pageDown: '\x1b[6~',
} as const;

export function containerRow(name: string, over: Partial<ContainerRow> = {}): ContainerRow {
  return {
    id: `${Buffer.from(name).toString('hex')}`.padEnd(64, '0').slice(0, 64),
    name,
    image: 'cirt-lab/busybox:1',
    state: 'running',
    status: 'Up 3 minutes',
    created: 1_714_564_800,
    networks: [{ name: 'lab-net', ip: '172.20.0.3' }],
    ports: ['0.0.0.0:8080->80/tcp'],
    command: 'httpd -f',
    ...over,
  };
}

/** A case folder with a timeline of `n` events (one every second from 2024-05-01T12:00:00Z). */
export function makeTimelineCase(
  n: number,
  event: (i: number) => Partial<TimelineEvent> = () => ({}),
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tui-case-'));
  fs.mkdirSync(path.join(dir, 'timeline'));
  const base = Date.parse('2024-05-01T12:00:00Z') * 1000;
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const us = base + i * 1_000_000;
    const e: TimelineEvent = {
      id: `logs:logs/stdout.log#L${i + 1}`,
      datetime: `${new Date(us / 1000).toISOString().slice(0, 19)}.000000+00:00`,
      timestamp: us,
      timestamp_desc: 'Log Written',
      message: `req ${i} GET / 200`,
      source: i % 3 === 0 ? 'fs' : 'logs',
      kind: 'log:stdout',
      actor: 'container',
      ref: { artifact: 'logs/stdout.log', line: i + 1 },
      attrs: {},
      ...event(i),
    };
    lines.push(JSON.stringify(e));
  }
  fs.writeFileSync(path.join(dir, 'timeline', 'timeline.jsonl'), `${lines.join('\n')}\n`);
  return dir;
}
