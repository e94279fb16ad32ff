import { TargetGoneError, errorMessage } from '../errors.js';

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

/** The engine's answer for a container id it does not know (HTTP 404 "No such container: …"). */
export function isNoSuchContainer(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TargetGoneError) return true;
    if (engineStatus(e) === 404 && /no such container/i.test(engineMessage(e))) return true;
  }
  return false;
}
