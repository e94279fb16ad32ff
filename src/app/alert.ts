import fs from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/** Alerts are untrusted input: bound their size before parsing. */
const MAX_ALERT_BYTES = 1024 * 1024;

/** The Falco alert fields cirt uses (JSON output or a falcosidekick webhook body). */
export const falcoAlert = z.looseObject({
  rule: z.string().max(1000),
  priority: z.string().max(100).optional(),
  time: z.string().max(100).optional(),
  output: z.string().max(100_000).optional(),
  tags: z.array(z.string().max(200)).max(100).optional(),
  output_fields: z.record(z.string(), z.unknown()).refine((f) => typeof f['container.id'] === 'string' || typeof f['container.name'] === 'string', {
    message: 'output_fields has neither container.id nor container.name',
  }),
});
export type FalcoAlert = z.infer<typeof falcoAlert>;

export interface LoadedAlert {
  alert: FalcoAlert;
  /** The exact bytes read, kept as evidence. */
  raw: Buffer;
  /** container.id (preferred) or container.name. */
  target: string;
}

/** Reads a Falco alert from a file or `-` (stdin); every problem is a UserError naming the source. */
export async function loadAlert(source: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<LoadedAlert> {
  const where = source === '-' ? 'standard input' : source;
  let raw: Buffer;
  try {
    raw = source === '-' ? await readBounded(stdin) : readFileBounded(source);
  } catch (err) {
    throw new UserError(`Cannot read the alert from ${where}: ${(err as Error).message}`, { hint: 'Pass a Falco JSON alert file, or - for stdin.' });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new UserError(`The alert in ${where} is not JSON: ${(err as Error).message}`, { hint: 'Falco must run with json_output: true.' });
  }
  const parsed = falcoAlert.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new UserError(`The alert in ${where} is not a Falco alert: ${safeText(problems)}`, { hint: 'Expected rule, output_fields with container.id, …' });
  }
  const f = parsed.data.output_fields;
  const id = typeof f['container.id'] === 'string' ? f['container.id'] : '';
  const name = typeof f['container.name'] === 'string' ? f['container.name'] : '';
  // Falco reports "host" for events outside any container: nothing to respond to.
  const target = id && id !== 'host' ? id : name;
  if (!target || target === 'host') {
    throw new UserError(`The alert in ${where} (rule "${safeText(parsed.data.rule)}") is not about a container`, { hint: 'Only container alerts can be answered with a playbook.' });
  }
  return { alert: parsed.data, raw, target };
}

function readFileBounded(file: string): Buffer {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new Error('not a regular file');
  if (st.size > MAX_ALERT_BYTES) throw new Error(`larger than ${MAX_ALERT_BYTES} bytes`);
  return fs.readFileSync(file);
}

async function readBounded(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += b.length;
    if (size > MAX_ALERT_BYTES) throw new Error(`larger than ${MAX_ALERT_BYTES} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}
