import type { Writable } from 'node:stream';
import type { RunEvent } from '../../runner/events.js';

/** NDJSON: one event per line. JSON.stringify escapes control characters, so lines stay lines. */
export function jsonReporter(out: Writable): (e: RunEvent) => void {
  return (e) => {
    out.write(`${JSON.stringify(e)}\n`);
  };
}
