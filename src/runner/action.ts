import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { z } from 'zod';
import type { EngineInfo } from '../docker/connection.js';
import type { Target } from '../docker/target.js';
import type { ArtifactHandle, CaseStore } from '../evidence/case-store.js';
import type { ManifestEntry } from '../evidence/types.js';

/** What an action gets to do its work. Actions never print and never open files themselves. */
export interface ActionContext {
  docker: Docker;
  engine: EngineInfo;
  /** The target as resolved when the run started. */
  target: Target;
  /**
   * The target's full inspect as this step first saw it: fetched once, shared by `check` and `run`.
   * Call the engine directly for state after the step changed something.
   */
  inspect(): Promise<Docker.ContainerInspectInfo>;
  case: CaseStore;
  stepId: string;
  /** The action's name, for provenance. */
  action: string;
  signal: AbortSignal;
  progress(p: { message?: string; bytes?: number; totalBytes?: number }): void;
  warn(message: string): void;
  /**
   * Opens a hashed artifact stream in the case folder; `source` names the endpoint or /proc path.
   * `progress: false` keeps a side artifact (an index written beside the main one) out of the byte progress.
   */
  artifact(path: string, meta: { mediaType: string; source: string; progress?: false }): Promise<ArtifactHandle>;
  /** Writes a whole artifact (stream, string or buffer) through the hashing writer. */
  writeArtifact(path: string, data: Readable | string | Buffer, meta: { mediaType: string; source: string }): Promise<ManifestEntry>;
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

/** One action: its docs, its params schema, and what it does. */
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
  /** What the step would do, for the plan and the approval prompt. */
  plan(params: P, target: { name: string; id: string }): string;
  /** Runtime preconditions (throw PreconditionError). */
  check?(ctx: ActionContext, params: P): Promise<void>;
  run(ctx: ActionContext, params: P): Promise<ActionResult>;
}

/** Helps TypeScript infer P from the schema. */
export function defineAction<S extends z.ZodType>(a: Action<z.output<S>> & { params: S }): Action<z.output<S>> {
  return a;
}

export type AnyAction = Action<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
