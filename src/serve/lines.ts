import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

/**
 * Falco's JSON lines (json_output: true; one alert per line) from stdin, a file or a FIFO. Each
 * line is handed over as it completes; a line longer than `limit` is skipped whole (told, never
 * cut into pieces that might parse). A FIFO is opened again when its writer goes away (Falco
 * restarted); stdin and a file end at their end.
 */
export function readAlertLines(o: {
  source: string;
  limit: number;
  onLine: (raw: Buffer, where: string, t0: number) => void;
  onProblem: (message: string) => void;
  stdin?: Readable;
  signal: AbortSignal;
}): Promise<void> {
  const where = o.source === '-' ? 'standard input' : o.source;
  const fifo = o.source !== '-' && fs.statSync(o.source).isFIFO();
  const once = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const stream: Readable =
        o.source === '-' ? (o.stdin ?? process.stdin) : fs.createReadStream(o.source);
      let held: Buffer[] = [];
      let heldBytes = 0;
      let skipping = false;
      let lineNo = 0;
      const stop = (): void => {
        stream.destroy();
        resolve();
      };
      o.signal.addEventListener('abort', stop, { once: true });
      stream.on('data', (chunk: Buffer) => {
        let start = 0;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, start)) {
          const part = chunk.subarray(start, i);
          start = i + 1;
          lineNo++;
          if (skipping || heldBytes + part.length > o.limit) {
            o.onProblem(`${where} line ${lineNo}: longer than ${o.limit} bytes, skipped`);
          } else {
            const line = Buffer.concat([...held, part]);
            if (line.toString('utf8').trim())
              o.onLine(line, `${where} line ${lineNo}`, performance.now());
          }
          held = [];
          heldBytes = 0;
          skipping = false;
        }
        const rest = chunk.subarray(start);
        if (rest.length && !skipping) {
          if (heldBytes + rest.length > o.limit) {
            skipping = true;
            held = [];
            heldBytes = 0;
          } else {
            held.push(Buffer.from(rest));
            heldBytes += rest.length;
          }
        }
      });
      stream.on('end', () => {
        o.signal.removeEventListener('abort', stop);
        if (heldBytes && !skipping)
          o.onProblem(`${where}: the last line has no newline (cut short?), skipped`);
        resolve();
      });
      stream.on('error', (err) => {
        o.signal.removeEventListener('abort', stop);
        reject(err);
      });
    });
  return (async () => {
    do await once();
    while (fifo && !o.signal.aborted);
  })();
}
