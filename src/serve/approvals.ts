import { randomBytes } from 'node:crypto';
import type { PlannedStep } from '../runner/events.js';
import type { Approval, ApprovalBy } from '../runner/outcome.js';
import { formatDuration } from './duration.js';

/** A step waiting for a human, as `cirt pending` and the TUI show it. */
export interface PendingItem {
  id: string;
  alertId: string;
  rule: string;
  caseId: string | null;
  container: { id: string; name: string };
  step: { id: string; uses: string; plan: string };
  since: string;
  /** When the configured default applies. */
  expiresAt: string;
}

interface Waiting {
  item: PendingItem;
  resolve: (a: ApprovalBy) => void;
  timer: NodeJS.Timeout;
}

/**
 * Steps waiting for approval. A run's `approve` callback parks here until `decide` (the HTTP API,
 * from `cirt approve|reject` or the TUI) or the timeout, whose answer is the configured default.
 * The answer carries who gave it; the runner writes it into the case's custody.
 */
export class Approvals {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly policy: () => { timeout: number; default: 'reject' | 'approve' },
    private readonly changed: (count: number) => void = () => undefined,
  ) {}

  ask(o: {
    alertId: string;
    rule: string;
    caseId: string | null;
    container: { id: string; name: string };
    step: PlannedStep;
  }): Promise<ApprovalBy> {
    const { timeout, default: dflt } = this.policy();
    const id = randomBytes(4).toString('hex');
    const since = new Date();
    const item: PendingItem = {
      id,
      alertId: o.alertId,
      rule: o.rule,
      caseId: o.caseId,
      container: o.container,
      step: { id: o.step.id, uses: o.step.uses, plan: o.step.plan },
      since: since.toISOString(),
      expiresAt: new Date(since.getTime() + timeout).toISOString(),
    };
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.finish(id, {
          answer: dflt === 'approve' ? 'yes' : 'skip',
          by: `cirt serve: nobody answered within approvals.timeout (${formatDuration(timeout)}), approvals.default is ${dflt}`,
        });
      }, timeout);
      timer.unref();
      this.waiting.set(id, { item, resolve, timer });
      this.changed(this.waiting.size);
    });
  }

  list(): PendingItem[] {
    return [...this.waiting.values()].map((w) => w.item);
  }

  /** A human's answer; false when there is no such pending step (answered, timed out, or never). */
  decide(id: string, answer: Approval, by: string): boolean {
    return this.finish(id, { answer, by });
  }

  /** Answers everything still waiting (the service is stopping). */
  closeAll(answer: ApprovalBy): void {
    for (const id of [...this.waiting.keys()]) this.finish(id, answer);
  }

  private finish(id: string, a: ApprovalBy): boolean {
    const w = this.waiting.get(id);
    if (!w) return false;
    clearTimeout(w.timer);
    this.waiting.delete(id);
    this.changed(this.waiting.size);
    w.resolve(a);
    return true;
  }
}
