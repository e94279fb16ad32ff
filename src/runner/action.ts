import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { ArtifactHandle } from '../evidence/case-store.js';
import type { SealOptions, SealResult } from '../evidence/seal.js';
import type { ManifestEntry } from '../evidence/types.js';
import type { HostView } from '../host/view.js';
import type {
  Capability,
  ContainerFacts,
  ContainerRuntime,
  RestoreOutcome,
  Target,
} from '../runtime/types.js';

/**
 * The part of the case a step may touch: its identity, gaps, what it learnt about the target, and
 * (for evidence:seal alone) the seal. Artifacts are written through the context, which records
 * their provenance.
 */
export interface CaseHandle {
  readonly id: string;
  /** The case folder, for steps that read what was collected (timeline, findings). */
  readonly root: string;
  readonly sealed: boolean;
  /** `--sign-key`, when one was given. */
  readonly signKeyPath?: string;
  /** Notes what this step could not collect: listed in case.json and the report. */
  noteGap(reason: string): Promise<void>;
  /**
   * Notes a limit of the evidence outside the step's control (the engine's 256-event memory, a
   * volume not opted into): listed in case.json `limitations` and the report; the step stays ok.
   */
  noteLimitation(reason: string): Promise<void>;
  /** Records the target's image digest in case.json. */
  recordImageDigest(digest: string): Promise<void>;
  /** Seals the case (evidence:seal): reports go through the context's hashing writer. */
  seal(o: Omit<SealOptions, 'store' | 'step' | 'writeReport' | 'duringRun'>): Promise<SealResult>;
}

/** What an action gets to do its work. Actions never print and never open files themselves. */
export interface ActionContext {
  /** The runtime the target lives on: every request to it goes through here. */
  runtime: ContainerRuntime;
  /** The target as resolved when the run started. */
  target: Target;
  /**
   * The target's facts as this step first saw them: fetched once, shared by `check` and `run`.
   * Ask the runtime again for state after the step changed something.
   */
  facts(): Promise<ContainerFacts>;
  /** This host's /proc, when the target's processes are visible from here; null otherwise. */
  host: HostView | null;
  /**
   * The flight recorder's journal folder, when the run has one (`cirt run --journal`, or the
   * service's own recorder): steps read the container's history from it (docs/journal.md).
   */
  journal?: string;
  case: CaseHandle;
  stepId: string;
  /** The action's name, for provenance. */
  action: string;
  signal: AbortSignal;
  progress(p: { message?: string; bytes?: number; totalBytes?: number }): void;
  warn(message: string): void;
  /**
   * Opens a hashed artifact stream in the case folder; `source` names where the bytes came from.
   * `progress: false` keeps a side artifact (an index written beside the main one) out of the byte progress.
   */
  artifact(
    path: string,
    meta: { mediaType: string; source: string; progress?: false },
  ): Promise<ArtifactHandle>;
  /** Writes a whole artifact (stream, string or buffer) through the hashing writer. */
  writeArtifact(
    path: string,
    data: Readable | string | Buffer,
    meta: { mediaType: string; source: string },
  ): Promise<ManifestEntry>;
  /** Pretty JSON artifact. */
  writeJson(path: string, value: unknown, source: string): Promise<ManifestEntry>;
}

export interface ActionResult {
  /** `noop` when there was nothing to do (idempotent re-run). */
  status: 'ok' | 'noop';
  /** One line for humans: what was done. */
  summary: string;
  /** Structured facts for the custody log. */
  details?: Record<string, unknown>;
}

/** What an undo gets: the runtime, the container's facts now, and the case that changed it. */
export interface UndoContext {
  runtime: ContainerRuntime;
  facts: ContainerFacts;
  caseId: string;
}

/**
 * How `cirt release` undoes what a containment action did, declared beside the apply. Release
 * replays the custody log: what the action did is outstanding until its undo (or one of
 * `alsoClearedBy`) succeeded.
 */
export interface Undo<R = unknown> {
  /** The custody action of the undo, e.g. `release:network-isolate`. */
  action: string;
  /** How release:start counts what is outstanding in its custody details. */
  key: string;
  /** What release calls the measure when it stays in force for another case ("the network isolation"). */
  label: string;
  /** Release undoes in ascending order (settings, then networks, then the thaw). */
  order: number;
  /** Checks a containment record read back from the case has the fields `run` trusts (it may be hand-made). */
  validRecord?: (d: unknown) => boolean;
  /**
   * `records`: every run of the action that wrote a containment record (a failed one too: it may have
   * changed something before failing) is outstanding, and the undo gets the records, oldest first.
   * `state`: outstanding when the action last succeeded; it wrote no record.
   */
  tracks: 'records' | 'state';
  /** Other custody actions that undo it too (contain:unpause undoes contain:pause). */
  alsoClearedBy?: readonly string[];
  run(u: UndoContext, pending: { records: R[]; applied: boolean }): Promise<RestoreOutcome>;
}

/** One action: its docs, its params schema, what it needs, and what it does. */
export interface Action<P = unknown> {
  /** `category:verb`, e.g. `contain:network-isolate`. */
  name: string;
  description: string;
  /** A YAML step showing typical use, printed by `cirt actions`. */
  example: string;
  /** Strict zod schema (unknown keys are an error) for the step's `with`. */
  params: z.ZodType<P>;
  /** Changes the container: dry-run plans it and skips it. */
  mutates: boolean;
  /** Destructive: the step needs approval unless the playbook says `confirm: false`. */
  confirmByDefault?: boolean;
  /** What it needs of the runtime (checked against the target's runtime before anything runs). */
  needs: readonly Capability[] | ((params: P) => readonly Capability[]);
  /** What the step would do, for the plan and the approval prompt. */
  plan(params: P, target: { name: string; id: string }): string;
  /** Runtime preconditions (throw PreconditionError). */
  check?(ctx: ActionContext, params: P): Promise<void>;
  run(ctx: ActionContext, params: P): Promise<ActionResult>;
  /** For containment: how release undoes it. */
  undo?: Undo<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Helps TypeScript infer P from the schema. */
export function defineAction<S extends z.ZodType>(
  a: Action<z.output<S>> & { params: S },
): Action<z.output<S>> {
  return a;
}

export type AnyAction = Action<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What an action needs with these params. */
export function needsOf<P>(a: Action<P>, params: P): readonly Capability[] {
  return typeof a.needs === 'function' ? a.needs(params) : a.needs;
}
