import type { EvidenceRef } from './evidence.js';
import type { Severity } from './rules.js';

/** One finding of findings.json. */
export interface Finding {
  /** `<rule>-<n>`: stable for the same case and rules. */
  id: string;
  rule: string;
  title: string;
  severity: Severity;
  /** ATT&CK technique id. */
  technique: string;
  summary: string;
  evidence: EvidenceRef[];
  /** Ids of the timeline events that show it. */
  events: string[];
  /** When it happened: the time of its earliest event (ISO 8601, as the timeline writes it). */
  time?: string;
}

/** findings.json */
export interface FindingsDoc {
  rulesVersion: string;
  findings: Finding[];
  /** What the evaluation could not look at (missing artifacts), for the reader. */
  notes?: string[];
}
