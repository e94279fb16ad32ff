import fs from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { FirstJsonError, readFirstJson, type FirstJson } from './first-json.js';

/** Alerts are untrusted input: bound their size before parsing. */
export const MAX_ALERT_BYTES = 1024 * 1024;

/** Told on stderr when more input followed the alert a run acts on. */
export const ONE_ALERT_NOTE =
  'more input follows the first alert; one run takes one alert, the rest was not read (run cirt once per alert, or `cirt serve --alerts -`, which takes streams)';

/**
 * A container id as an alert may give it: Falco's 12 hex characters, or Docker's full 64. Anything
 * shorter would be matched as a prefix and could name an unrelated container, so it is refused.
 */
export const ALERT_CONTAINER_ID = /^(?:[0-9a-f]{12}|[0-9a-f]{64})$/;

/** The Falco alert fields cirt uses (JSON output or a falcosidekick webhook body). */
export const falcoAlert = z.looseObject({
  rule: z.string().max(1000),
  priority: z.string().max(100).optional(),
  time: z.string().max(100).optional(),
  output: z.string().max(100_000).optional(),
  tags: z.array(z.string().max(200)).max(100).optional(),
  output_fields: z
    .record(z.string(), z.unknown())
    .refine(
      (f) => typeof f['container.id'] === 'string' || typeof f['container.name'] === 'string',
      {
        message: 'output_fields has neither container.id nor container.name',
      },
    )
    .refine((f) => f['container.id'] == null || typeof f['container.id'] === 'string', {
      message: 'output_fields.container.id is not a string',
    })
    .refine((f) => f['container.name'] == null || typeof f['container.name'] === 'string', {
      message: 'output_fields.container.name is not a string',
    }),
});
export type FalcoAlert = z.infer<typeof falcoAlert>;

export interface LoadedAlert {
  alert: FalcoAlert;
  /** The exact bytes of the alert object, kept as evidence. */
  raw: Buffer;
  /** container.id (preferred) or container.name. */
  target: string;
  /** container.id: 12 or 64 lowercase hex, checked. */
  id?: string;
  /** container.name, as the alert gives it. */
  name?: string;
  /** Where it came from, for messages: the file, or "standard input". */
  where: string;
  /** More input had already arrived after the alert (not read: one run takes one alert). */
  more: boolean;
}

/**
 * Reads a Falco alert from a file or `-` (stdin): the first JSON object only, acted on as soon as it
 * is complete (a live stream never ends). Every problem is a UserError naming the source.
 */
export async function loadAlert(
  source: string,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<LoadedAlert> {
  const where = source === '-' ? 'standard input' : source;
  const first = await readAlertBytes(source, where, stdin);
  return { ...parseAlert(first.raw, where), more: first.more };
}

/**
 * Checks the bytes of one alert (already read and bounded by the caller): valid JSON, a Falco alert,
 * about one container named by an exact id or a name. Every problem is a UserError naming `where`.
 * Pure: the service calls it for each alert it is sent.
 */
export function parseAlert(raw: Buffer, where: string): LoadedAlert {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new UserError(
      `The alert in ${safeText(where)} is not valid JSON: ${safeText((err as Error).message)}`,
      {
        hint: 'Pass one alert object exactly as Falco writes it (json_output: true), unedited.',
      },
    );
  }
  const parsed = falcoAlert.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`)
      .join('; ');
    throw new UserError(
      `The alert in ${safeText(where)} is not a Falco alert: ${safeText(problems)}`,
      { hint: 'Expected rule, output_fields with container.id, …' },
    );
  }
  const f = parsed.data.output_fields;
  const id = typeof f['container.id'] === 'string' ? f['container.id'] : undefined;
  const name =
    typeof f['container.name'] === 'string' && f['container.name'] !== ''
      ? f['container.name']
      : undefined;
  const rule = safeText(parsed.data.rule);
  // Falco reports "host" for events outside any container: nothing to respond to.
  if (id === 'host' || (id === undefined && name === 'host')) {
    throw new UserError(
      `The alert in ${safeText(where)} (rule "${rule}") is about the host, not a container (container.id "host")`,
      {
        hint: 'Only container alerts can be answered with a playbook; nothing was touched.',
      },
    );
  }
  if (id !== undefined && !ALERT_CONTAINER_ID.test(id)) {
    throw new UserError(
      `The alert in ${safeText(where)} (rule "${rule}") has container.id "${safeText(id.slice(0, 80))}", which is not a container id (12 or 64 lowercase hex characters); nothing was touched`,
      {
        hint: 'A shorter id could match an unrelated container, so cirt does not guess. Check what produced the alert; to act on a container you know, name it with --target and no --alert.',
      },
    );
  }
  const target = id ?? name;
  if (!target) {
    throw new UserError(
      `The alert in ${safeText(where)} (rule "${rule}") is not about a container`,
      { hint: 'Only container alerts can be answered with a playbook.' },
    );
  }
  return { alert: parsed.data, raw, target, id, name, where, more: false };
}

async function readAlertBytes(
  source: string,
  where: string,
  stdin: NodeJS.ReadableStream,
): Promise<FirstJson> {
  let stream: NodeJS.ReadableStream | undefined;
  try {
    if (source === '-') stream = stdin;
    else {
      if (!fs.statSync(source).isFile()) throw new Error('not a regular file');
      stream = fs.createReadStream(source);
    }
    return await readFirstJson(stream, MAX_ALERT_BYTES);
  } catch (err) {
    throw alertReadError(err, where);
  } finally {
    // A file is read no further than the alert. stdin is left open, only paused, for whoever holds it;
    // a paused pipe still keeps Node running, so it is unref'd: the run ends when its work does, not
    // when the alert stream does (a TTY is left alone: an approval prompt may read it next).
    if (source !== '-') (stream as fs.ReadStream | undefined)?.destroy();
    else if (!(stdin as { isTTY?: boolean }).isTTY) (stdin as { unref?: () => void }).unref?.();
  }
}

/** Each way of not getting an alert has its own advice. */
function alertReadError(err: unknown, where: string): UserError {
  const at = safeText(where);
  if (!(err instanceof FirstJsonError)) {
    return new UserError(`Cannot read the alert from ${at}: ${safeText((err as Error).message)}`, {
      hint: 'Pass a Falco JSON alert file, or - for stdin.',
    });
  }
  const head = err.head.trim() ? ` (it starts "${safeText(err.head.trim().slice(0, 40))}")` : '';
  switch (err.problem) {
    case 'empty':
      return new UserError(`No alert in ${at}: ${err.message}`, {
        hint: 'Give one Falco JSON alert: a file, or - with the alert on standard input.',
      });
    case 'not-object':
      return new UserError(`The alert in ${at} is ${err.message}${head}`, {
        hint: err.head.trimStart().startsWith('[')
          ? 'One run takes one alert: pass a single alert object.'
          : 'Falco writes JSON only with json_output: true (in falco.yaml, or -o json_output=true); text output cannot be read.',
      });
    case 'truncated':
      return new UserError(`The alert in ${at} is cut short: ${err.message}`, {
        hint: 'The writer stopped mid-alert (a closed pipe, a file copied while being written): pass the complete alert.',
      });
    case 'too-large':
      return new UserError(`The alert in ${at} is too large: ${err.message}${head}`, {
        hint: `A Falco alert is a few KiB; more than ${MAX_ALERT_BYTES / 1024 / 1024} MiB without the object ending is not one alert (check the input, and that it is one JSON object).`,
      });
  }
}
