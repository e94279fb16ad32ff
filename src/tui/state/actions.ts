import type { CaseMeta, META_FIELDS } from '../../app/case-meta.js';
import type { IncidentEvent } from '../../app/incident-events.js';
import type { RunEvent } from '../../runner/events.js';
import type { Approval } from '../../runner/outcome.js';
import type { CaseData, ContainerRow, PlaybookEntry, VerifyOutcome } from '../types.js';

export type Screen = 'containers' | 'playbooks' | 'run' | 'incident' | 'case' | 'timeline';

/** A y/N question over the current screen (step approvals live in the run state instead). */
export type Prompt =
  | { kind: 'quit' }
  | { kind: 'abort' }
  | StartPrompt
  /** One approval for a playbook on every selected container (docs/incidents.md). */
  | { kind: 'start-many'; playbook: PlaybookEntry; targets: ContainerRow[] }
  | { kind: 'release'; dir: string; caseId: string; lines: string[] };

/** "Run this playbook on this container?", with the case details typed so far (d edits them). */
export type StartPrompt = {
  kind: 'start';
  playbook: PlaybookEntry;
  target: ContainerRow;
  meta?: CaseMeta;
};

/** A text field the user is typing into; keys go to it until Enter or Esc. */
export type InputField =
  | { kind: 'filter' | 'search' | 'time'; text: string }
  /** One case detail (title, ticket, case number…) for the run about to start; Enter goes to the next. */
  | { kind: 'meta'; key: (typeof META_FIELDS)[number]; text: string; pending: StartPrompt };

/**
 * Everything that changes the UI state: engine events (wrapped), answers from the services, and
 * the user's intents. Intents (`…:request`, `run:answer`, `run:abort`, `case:verify`, `timeline:search`,
 * `timeline:jump-time`) are also seen by the controller, which does the work outside React.
 */
export type TuiAction =
  | { type: 'engine'; event: RunEvent }
  | { type: 'resize'; columns: number; rows: number }
  | { type: 'nav:push'; screen: Screen }
  | { type: 'nav:back' }
  | { type: 'help:toggle' }
  | { type: 'prompt:open'; prompt: Prompt }
  | { type: 'prompt:close' }
  | { type: 'quit'; code: number }
  | { type: 'message'; text: string }
  | { type: 'input:set'; field: InputField | null }
  | { type: 'containers:loaded'; rows: ContainerRow[] }
  | { type: 'containers:error'; message: string }
  | { type: 'containers:move'; delta: number }
  | { type: 'containers:filter'; text: string }
  | { type: 'playbooks:request'; target: ContainerRow; many?: boolean }
  | { type: 'containers:toggle'; id: string }
  | { type: 'incident:pick'; targets: ContainerRow[] }
  | { type: 'incident:request'; playbook: PlaybookEntry; targets: ContainerRow[] }
  | { type: 'incident:event'; event: IncidentEvent }
  | { type: 'incident:failed'; message: string }
  | { type: 'playbooks:loaded'; entries: PlaybookEntry[] }
  | { type: 'playbooks:error'; message: string }
  | { type: 'playbooks:move'; delta: number }
  | { type: 'run:request'; playbook: PlaybookEntry; target: ContainerRow; meta?: CaseMeta }
  | { type: 'run:failed'; message: string }
  | { type: 'run:answer'; stepId: string; answer: Approval }
  | { type: 'run:abort' }
  | { type: 'run:seal' }
  | { type: 'run:sealed'; bundle?: string; error?: string }
  | { type: 'case:request'; dir: string; bundle?: string }
  | { type: 'case:loaded'; data: CaseData }
  | { type: 'case:error'; message: string }
  | { type: 'case:move'; delta: number }
  | { type: 'case:verify' }
  | { type: 'case:verified'; outcome: VerifyOutcome }
  | { type: 'case:release-plan' }
  | { type: 'case:release'; dir: string }
  | { type: 'case:released'; ok: boolean; line: string }
  | { type: 'timeline:request'; dir: string }
  | { type: 'timeline:progress'; indexed: number; done: boolean; sources: string[] }
  | { type: 'timeline:error'; message: string }
  | { type: 'timeline:highlights'; ids: string[] }
  | { type: 'timeline:move'; delta: number }
  | { type: 'timeline:goto'; index: number }
  | { type: 'timeline:search'; query: string; source: string | null }
  | {
      type: 'timeline:view';
      query: string;
      source: string | null;
      lines: Uint32Array | null;
      done: boolean;
    }
  | { type: 'timeline:jump-time'; text: string };

export type Dispatch = (action: TuiAction) => void;
