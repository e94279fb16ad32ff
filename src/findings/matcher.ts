import type { z } from 'zod';
import type { FsEntry } from '../timeline/fs-entries.js';
import type { Evidence, EvidenceRef } from './evidence.js';

/** One thing a matcher found: a subject (a path, a socket, a session) and what shows it. */
export interface Match {
  /** Identifies the subject within the rule (two snapshots of one socket are one match). */
  key: string;
  summary: string;
  evidence: EvidenceRef[];
}

/**
 * One kind of evidence test (`fsChange`, `socket`, …). Implemented once here; rules in
 * rules/findings.yaml combine them with data. `params` is validated when the rules load.
 */
export interface Matcher<S extends z.ZodType = z.ZodType> {
  kind: string;
  description: string;
  params: S;
  match(p: z.output<S>, ev: Evidence): Match[];
}

/** Helps TypeScript infer the params type from the schema. */
export function defineMatcher<S extends z.ZodType>(m: Matcher<S>): Matcher<S> {
  return m;
}

/** Every artifact line/entry that says something about a changed path. */
export function fsEvidence(e: FsEntry): EvidenceRef[] {
  const out: EvidenceRef[] = [];
  if (e.refs.changes)
    out.push({ artifact: e.refs.changes.artifact, ref: { entry: e.refs.changes.entry } });
  if (e.refs.diffIndex)
    out.push({ artifact: e.refs.diffIndex.artifact, ref: { line: e.refs.diffIndex.line } });
  if (e.refs.stat) out.push({ artifact: e.refs.stat.artifact, ref: { line: e.refs.stat.line } });
  return out;
}

export const CHANGE_KINDS = ['added', 'changed', 'deleted'] as const;
