import { errorMessage } from '../errors.js';

/** dockerode errors carry the HTTP status and the engine's JSON message. */
export function engineStatus(err: unknown): number | undefined {
  const e = err as { statusCode?: unknown };
  return typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

export function engineMessage(err: unknown): string {
  const e = err as { json?: { message?: unknown }; reason?: unknown; message?: unknown };
  if (e?.json && typeof e.json.message === 'string') return e.json.message;
  return errorMessage(err);
}
