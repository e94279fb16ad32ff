import { z } from 'zod';
import { bytesParam } from '../util/bytes-param.js';
import { durationField } from './duration.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** `output_fields` tests: a value (equal), `{not: v}`, `{in: [..]}` or `{not_in: [..]}`. */
const fieldTest = z.union([
  scalar,
  z.strictObject({ not: scalar }),
  z.strictObject({ in: z.array(scalar).min(1) }),
  z.strictObject({ not_in: z.array(scalar).min(1) }),
]);

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const matchShape = z.strictObject({
  /** Falco rule names: any of them. */
  rule: oneOrMany.optional(),
  /** `>=Critical`, `<Warning`, `Error`. */
  priority: z.string().optional(),
  /** A list of tags (all of them), or a list of such lists (any one of the groups). */
  tags: z
    .union([z.array(z.string().min(1)).min(1), z.array(z.array(z.string().min(1)).min(1)).min(1)])
    .optional(),
  output_fields: z.record(z.string().min(1), fieldTest).optional(),
  /** Falco's event source (`syscall`, `k8s_audit`, …): any of them. */
  source: oneOrMany.optional(),
});

export const ruleShape = z.strictObject({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/,
      'a name of letters, digits, space, dot, dash, underscore (≤ 80)',
    ),
  match: matchShape.prefault({}),
  playbook: z.string().min(1),
  /** Per step id, params merged over the playbook's; values may be `${alert.field}`. */
  params: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  /** Later alerts for a container with a case younger than this are added to that case. */
  dedup: durationField('60s'),
  /** Approve every `confirm` step of this rule's runs without asking (as `--yes`). */
  auto_approve: z.boolean().default(false),
  dry_run: z.boolean().optional(),
});

export const configShape = z.strictObject({
  listen: z.string().min(1).default('127.0.0.1:2803'),
  token_file: z.string().min(1).optional(),
  tls: z
    .strictObject({
      cert: z.string().min(1),
      key: z.string().min(1),
      client_ca: z.string().min(1).optional(),
    })
    .optional(),
  cases_dir: z.string().min(1).optional(),
  /** Where accepted alerts are kept (byte-exact, hashed): default `<cases_dir>/.serve`. */
  state_dir: z.string().min(1).optional(),
  journal: z
    .strictObject({
      dir: z.string().min(1),
      segment_size: bytesParam('64MiB', 'journal segment size'),
      segment_age: durationField('1h'),
      max_age: durationField('7d'),
      max_bytes: bytesParam('1GiB', 'journal total size'),
    })
    .optional(),
  snapshots: z.strictObject({ interval: durationField('10s') }).prefault({}),
  /** Engine addresses (as --host / DOCKER_HOST); default: the one the CLI would use. */
  engines: z.array(z.string().min(1)).min(1).optional(),
  /** Runs at once, across containers (one per container always). */
  concurrency: z.number().int().min(1).max(64).default(4),
  limits: z
    .strictObject({
      body: bytesParam('1MiB', 'largest request body'),
      header_timeout: durationField('5s'),
      request_timeout: durationField('10s'),
      /** Alerts waiting for a run slot before the service answers 503. */
      queue: z.number().int().min(1).max(100_000).default(1000),
    })
    .prefault({}),
  approvals: z
    .strictObject({
      timeout: durationField('5m'),
      default: z.enum(['reject', 'approve']).default('reject'),
    })
    .prefault({}),
  /** SIGTERM: how long running steps may take to finish before they are interrupted. */
  drain_timeout: durationField('60s'),
  sign_key: z.string().min(1).optional(),
  dry_run: z.boolean().default(false),
  rules: z.array(z.unknown()).min(1, 'at least one rule is needed'),
});

export type RawConfig = z.infer<typeof configShape>;
export type RawRule = z.infer<typeof ruleShape>;
