import type { CaseMeta } from '../app/case-meta.js';
import type { PlannedStep } from '../runner/events.js';
import type { Approval } from '../runner/outcome.js';
import { CirtError, EXIT } from '../errors.js';
import { findingEventIds } from './data/case-reader.js';
import type { TimelineIndex } from './data/timeline-index.js';
import { findTime, parseJumpTime, searchTimeline } from './data/timeline-search.js';
import { errorText } from './format.js';
import type { Dispatch, TuiAction } from './state/actions.js';
import type { TuiState } from './state/reducer.js';
import type { TuiServices } from './services.js';
import type { CaseData } from './types.js';

/**
 * Does the work behind the user's intents, outside React: starts runs and answers their approval
 * prompts, aborts them, reads cases, indexes and searches timelines. It only talks back through
 * `dispatch`, so the UI state stays a pure reducer over what happens.
 */
export class TuiController {
  private stopWatching?: () => void;
  private runAbort?: AbortController;
  private approval?: { stepId: string; resolve: (answer: Approval) => void };
  private index?: TimelineIndex;
  private indexDir?: string;
  private indexAbort?: AbortController;
  private searchAbort?: AbortController;
  /** Exit code of the last run (the TUI's own exit code reflects it). */
  lastRunExit: number | undefined;
  /** Settles when the current run has ended (an external interrupt waits for it before leaving). */
  running: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly services: TuiServices,
    private readonly dispatch: Dispatch,
  ) {}

  get timeline(): TimelineIndex | undefined {
    return this.index;
  }

  start(): void {
    this.stopWatching = this.services.watchContainers(
      (rows) => this.dispatch({ type: 'containers:loaded', rows }),
      (message) => this.dispatch({ type: 'containers:error', message }),
    );
  }

  /** Called after the reducer has seen `a`, with the state it produced. */
  handle(a: TuiAction, s: TuiState): void {
    switch (a.type) {
      case 'playbooks:request':
        this.services.listPlaybooks({ id: a.target.id, name: a.target.name }).then(
          (entries) => this.dispatch({ type: 'playbooks:loaded', entries }),
          (err) => this.dispatch({ type: 'playbooks:error', message: errorText(err) }),
        );
        break;
      case 'run:request':
        this.startRun(a.playbook.file, a.target.id, a.meta);
        break;
      case 'incident:request':
        this.startIncident(
          a.playbook.file,
          a.targets.map((t) => t.id),
        );
        break;
      case 'run:answer':
        if (this.approval?.stepId === a.stepId) {
          this.approval.resolve(a.answer);
          this.approval = undefined;
        }
        break;
      case 'run:abort':
        this.abortRun('aborted by the responder in the TUI');
        break;
      case 'run:seal':
        if (!s.run.caseDir || !this.services.seal) {
          this.dispatch({
            type: 'run:sealed',
            error: 'sealing is not available here: use `cirt seal --case <id>`',
          });
          break;
        }
        this.services.seal(s.run.caseDir).then(
          (bundle) => this.dispatch({ type: 'run:sealed', bundle }),
          (err) => this.dispatch({ type: 'run:sealed', error: errorText(err) }),
        );
        break;
      case 'case:request':
        this.services.readCase(a.dir, a.bundle).then(
          (data) => {
            this.dispatch({ type: 'case:loaded', data });
            this.dispatch({ type: 'timeline:highlights', ids: findingEventIds(data.findings) });
          },
          (err) => this.dispatch({ type: 'case:error', message: errorText(err) }),
        );
        break;
      case 'case:verify': {
        const bundle = s.case.data?.bundle?.path;
        if (!bundle || !this.services.verify) {
          this.dispatch({
            type: 'case:verified',
            outcome: { ok: false, lines: ['No verifier available.'] },
          });
          break;
        }
        this.services.verify(bundle).then(
          (outcome) => this.dispatch({ type: 'case:verified', outcome }),
          (err) =>
            this.dispatch({
              type: 'case:verified',
              outcome: { ok: false, lines: [errorText(err)] },
            }),
        );
        break;
      }
      case 'case:release-plan':
        this.releasePlan(s);
        break;
      case 'case:release':
        this.release(a.dir);
        break;
      case 'timeline:request':
        this.openTimeline(a.dir, s.case.data?.dir === a.dir ? s.case.data : undefined);
        break;
      case 'timeline:search':
        this.search(a.query, a.source);
        break;
      case 'timeline:jump-time':
        this.jump(a.text, s);
        break;
      case 'quit':
        this.dispose();
        break;
      default:
        break;
    }
  }

  /** Aborts a running playbook (Ctrl-C confirmed, or the process was told to stop). */
  abortRun(reason: string): void {
    this.runAbort?.abort(new Error(reason));
    // A pending approval is answered abort; the runner sees the abort signal and records an interrupt.
    this.approval?.resolve('abort');
    this.approval = undefined;
  }

  private startRun(file: string, targetId: string, meta?: CaseMeta): void {
    const ac = new AbortController();
    this.runAbort = ac;
    this.lastRunExit = undefined;
    const approve = (step: PlannedStep): Promise<Approval> =>
      new Promise((resolve) => {
        if (ac.signal.aborted) return resolve('abort');
        this.approval = { stepId: step.id, resolve };
      });
    this.running = this.services
      .run({
        playbookFile: file,
        targetId,
        ...(meta ? { meta } : {}),
        signal: ac.signal,
        onEvent: (event) => this.dispatch({ type: 'engine', event }),
        approve,
      })
      .then(
        (code) => {
          this.lastRunExit = code;
        },
        (err) => {
          // Could not start (bad playbook, engine gone, unknown container): the CLI's exit code for it.
          this.lastRunExit = err instanceof CirtError ? err.exitCode : EXIT.failed;
          this.dispatch({ type: 'run:failed', message: errorText(err) });
        },
      );
  }

  /** Several containers, one incident: approved as a set at the start prompt, so nothing asks again. */
  private startIncident(file: string, targetIds: string[]): void {
    const run = this.services.runIncident;
    if (!run) {
      this.dispatch({
        type: 'incident:failed',
        message: 'multi-target runs are not available here',
      });
      return;
    }
    const ac = new AbortController();
    this.runAbort = ac;
    this.lastRunExit = undefined;
    this.running = run
      .call(this.services, {
        playbookFile: file,
        targetIds,
        signal: ac.signal,
        onEvent: (event) => this.dispatch({ type: 'incident:event', event }),
      })
      .then(
        (code) => {
          this.lastRunExit = code;
        },
        (err) => {
          this.lastRunExit = err instanceof CirtError ? err.exitCode : EXIT.failed;
          this.dispatch({ type: 'incident:failed', message: errorText(err) });
        },
      );
  }

  private releasePlan(s: TuiState): void {
    const d = s.case.data;
    if (!d || !this.services.releasePlan || !this.services.release) {
      this.dispatch({
        type: 'message',
        text: 'Release is not available here: use `cirt release`.',
      });
      return;
    }
    this.services.releasePlan(d.dir).then(
      (plan) =>
        plan.changes
          ? this.dispatch({
              type: 'prompt:open',
              prompt: { kind: 'release', dir: d.dir, caseId: d.id, lines: plan.lines },
            })
          : this.dispatch({ type: 'message', text: plan.lines.slice(1).join(' · ').trim() }),
      (err) => this.dispatch({ type: 'message', text: errorText(err) }),
    );
  }

  private release(dir: string): void {
    if (!this.services.release) return;
    this.services.release(dir).then(
      (r) => {
        this.dispatch({ type: 'case:released', ...r });
        // What the case holds changed: read it again (the Case screen shows containment in force).
        this.services.readCase(dir).then(
          (data) => this.dispatch({ type: 'case:loaded', data }),
          () => undefined,
        );
      },
      (err) => this.dispatch({ type: 'case:released', ok: false, line: errorText(err) }),
    );
  }

  /** `loaded`: the case as the Case screen already read it (its findings give the highlights). */
  private openTimeline(dir: string, loaded?: CaseData): void {
    // Reopening the same case keeps the index (and the search) instead of reading the file again.
    if (this.index && this.indexDir === dir) {
      const ix = this.index;
      this.dispatch({
        type: 'timeline:progress',
        indexed: ix.count,
        done: ix.done,
        sources: [...ix.sources],
      });
      return;
    }
    this.closeTimeline();
    const ac = new AbortController();
    this.indexAbort = ac;
    this.indexDir = dir;
    if (loaded)
      this.dispatch({ type: 'timeline:highlights', ids: findingEventIds(loaded.findings) });
    else
      this.services.readCase(dir).then(
        (c) => this.dispatch({ type: 'timeline:highlights', ids: findingEventIds(c.findings) }),
        () => undefined, // highlights are a nicety; the timeline works without findings
      );
    let ix: TimelineIndex;
    try {
      ix = this.services.openTimeline(
        dir,
        (indexed, done, sources) =>
          !ac.signal.aborted &&
          this.dispatch({ type: 'timeline:progress', indexed, done, sources }),
        ac.signal,
      );
    } catch (err) {
      this.dispatch({ type: 'timeline:error', message: errorText(err) });
      return;
    }
    // Rows are readable while indexing goes on: the first screen shows at once.
    this.index = ix;
    ix.ready.then(
      () =>
        !ac.signal.aborted &&
        this.dispatch({
          type: 'timeline:progress',
          indexed: ix.count,
          done: true,
          sources: [...ix.sources],
        }),
      (err) =>
        !ac.signal.aborted && this.dispatch({ type: 'timeline:error', message: errorText(err) }),
    );
  }

  private search(query: string, source: string | null): void {
    this.searchAbort?.abort();
    const ix = this.index;
    if (!ix || (!query && source === null)) {
      this.dispatch({ type: 'timeline:view', query, source, lines: null, done: true });
      return;
    }
    const ac = new AbortController();
    this.searchAbort = ac;
    // A search covers the whole file: wait for the index to reach its end first.
    const onPartial = (lines: Uint32Array, done: boolean): void => {
      if (!ac.signal.aborted) this.dispatch({ type: 'timeline:view', query, source, lines, done });
    };
    ix.ready
      .then(() => searchTimeline(ix, { query, source, signal: ac.signal, onPartial }))
      .catch((err) => {
        if (!ac.signal.aborted) this.dispatch({ type: 'timeline:error', message: errorText(err) });
      });
  }

  private jump(text: string, s: TuiState): void {
    const ix = this.index;
    if (!ix || !ix.count) return;
    const t = s.timeline;
    // A bare time of day means that time on the day of the case's latest event (the day it was
    // collected): the first rows are often image layers from long before the incident.
    const ref = ix.timestampAt(ix.count - 1);
    const us = parseJumpTime(text, ref);
    if (us === undefined) {
      this.dispatch({
        type: 'message',
        text: `Not a time: "${text}" (try 2024-05-01T12:00:00Z or 12:00:05)`,
      });
      return;
    }
    this.dispatch({ type: 'timeline:goto', index: findTime(ix, t.lines, us) });
  }

  private closeTimeline(): void {
    this.indexAbort?.abort();
    this.searchAbort?.abort();
    this.index?.close();
    this.index = undefined;
    this.indexDir = undefined;
  }

  dispose(): void {
    this.stopWatching?.();
    this.stopWatching = undefined;
    this.closeTimeline();
  }
}
