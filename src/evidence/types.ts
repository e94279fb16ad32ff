/** One artifact in manifest.json. */
export interface ManifestEntry {
  path: string;
  sha256: string;
  bytes: number;
  mediaType: string;
  action: string;
  step: string;
  source: string;
  startedAt: string;
  finishedAt: string;
  /** False when the source failed midway; the bytes that arrived are kept and hashed. */
  complete: boolean;
  error?: string;
}

export type CaseStatus =
  | 'open'
  | 'running'
  | 'complete'
  | 'incomplete'
  | 'failed'
  | 'not-contained'
  | 'declined'
  | 'aborted'
  | 'blocked'
  | 'sealed';

export interface RunRecord {
  playbook: string;
  file: string;
  startedAt: string;
  finishedAt?: string;
  status?: string;
  /** Steps the responder declined at their prompt (docs/statuses.md); `containment`: a contain:* step. */
  declined?: {
    step: string;
    uses: string;
    answer: 'skip' | 'abort';
    containment: boolean;
    at: string;
  }[];
}

/** case.json */
export interface CaseInfo {
  schema: 'cirt.case/1';
  id: string;
  title?: string;
  ticket?: string;
  responder: string;
  host: string;
  /** `name`: the engine as the user picked it (docker context, cirt's config, `default`); absent in cases made before engines had names. */
  engine: { name?: string; address: string; local: boolean; version: string; apiVersion: string };
  tool: { name: 'cirt'; version: string };
  target: { id: string; name: string; image: string; imageId: string; imageDigest?: string };
  startedAt: string;
  finishedAt?: string;
  status: CaseStatus;
  runs: RunRecord[];
  /** Gaps: content a step was responsible for that did not reach the case (the step ended `partial` or `failed`). */
  incomplete?: { step: string; reason: string }[];
  /** Limitations: facts about the evidence outside the steps' control (e.g. the engine kept only its last 256 events). */
  limitations?: { step: string; reason: string }[];
  /** Set by evidence:seal: when, by whom, and the fingerprint (sha256 of the SPKI DER) of the signing key. */
  seal?: { at: string; by: string; key: 'provided' | 'generated'; publicKeySha256: string };
}
