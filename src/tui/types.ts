import type { PlannedStep } from '../runner/events.js';
import type { TimelineEvent as CaseEvent } from '../timeline/event.js';

/** One row of the Containers screen, as the engine listed it (strings unsanitised: sanitise at render). */
export interface ContainerRow {
  id: string;
  name: string;
  image: string;
  /** running, paused, exited, … */
  state: string;
  /** The engine's own status text, e.g. "Up 5 minutes". */
  status: string;
  /** Unix seconds. */
  created: number;
  networks: { name: string; ip: string }[];
  ports: string[];
  command: string;
  /** The case that quarantined it (from the cirt quarantine network), when any. */
  quarantinedBy?: string;
  /** The cases whose egress restriction is in force in its namespace, when any. */
  egressBy?: string[];
}

/** A playbook offered by the picker: loaded and validated, or the reason it could not be. */
export interface PlaybookEntry {
  name: string;
  file: string;
  /** `shipped` from the package, `local` from ./playbooks. */
  origin: 'shipped' | 'local';
  description: string;
  /** Plan for the selected container; empty when the playbook has problems. */
  steps: PlannedStep[];
  problem?: string;
}

/**
 * One timeline event as the TUI reads it from timeline.jsonl: the model of src/timeline/event.ts,
 * with the parts a hand-made or older file may lack made optional.
 */
export type TimelineEvent = Pick<
  CaseEvent,
  'id' | 'datetime' | 'timestamp' | 'timestamp_desc' | 'message' | 'source'
> &
  Partial<Pick<CaseEvent, 'kind' | 'actor' | 'ref' | 'attrs'>>;

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';

/** findings.json → findings[] */
export interface Finding {
  id: string;
  rule: string;
  title: string;
  severity: Severity | string;
  technique?: string;
  summary?: string;
  evidence?: { artifact: string; ref?: unknown }[];
  events?: string[];
}

export interface ArtifactRow {
  path: string;
  bytes: number;
  sha256: string;
  complete: boolean;
}

/** What the Case screen shows: read from the case folder and the bundle beside it. */
export interface CaseData {
  id: string;
  dir: string;
  status: string;
  target: string;
  artifacts: ArtifactRow[];
  findings: Finding[];
  bundle?: { path: string; sha256?: string };
  /** The seal's signing key (case.json `seal`): its full fingerprint, and whose key it was. */
  key?: { fingerprint: string; source: string; tsa?: string };
  /** Containment the case's custody says it still holds ("network isolation", "pause"); undefined: not known. */
  containment?: string[];
  /** Problems reading parts of the case (shown, not fatal). */
  notes: string[];
}

export interface VerifyOutcome {
  ok: boolean;
  /** One line per check, e.g. "SHA256SUMS: 42 files OK". */
  lines: string[];
}
