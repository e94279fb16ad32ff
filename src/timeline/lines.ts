import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a byte stream into lines (on `\n` only: a `\r` inside a line is the container's and is kept),
 * one array per chunk read, so a million lines cost a few hundred awaits, not a million.
 * UTF-8 sequences split across chunks are decoded correctly. A long line is gathered as pieces and
 * joined once, so its cost stays linear in its length. The last line is yielded even without `\n`.
 */
export async function* readLineBatches(stream: Readable): AsyncGenerator<string[]> {
  const decoder = new StringDecoder('utf8');
  let pieces: string[] = [];
  for await (const chunk of stream) {
    const text = decoder.write(chunk as Buffer);
    let start = 0;
    let nl = text.indexOf('\n');
    if (nl === -1) {
      if (text) pieces.push(text);
      continue;
    }
    const batch: string[] = [];
    if (pieces.length) {
      pieces.push(text.slice(0, nl));
      batch.push(pieces.join(''));
      pieces = [];
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    for (; nl !== -1; nl = text.indexOf('\n', start)) {
      batch.push(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) pieces.push(text.slice(start));
    yield batch;
  }
  const tail = pieces.join('') + decoder.end();
  if (tail) yield [tail];
}

/** The same, one line at a time (for the small line-oriented artifacts). */
export async function* readLines(stream: Readable): AsyncGenerator<string> {
  for await (const batch of readLineBatches(stream)) yield* batch;
}

/**
 * The JSON objects of a JSONL artifact, with their 1-based line numbers. Blank lines are skipped; a
 * line that is not a JSON object is a warning (`rel:line: …`) and reading goes on.
 */
export async function* jsonObjects(stream: Readable, rel: string, warn: (message: string) => void): AsyncGenerator<{ o: Record<string, unknown>; line: number }> {
  let line = 0;
  for await (const text of readLines(stream)) {
    line++;
    if (!text.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch {
      warn(`${rel}:${line}: not valid JSON; skipped`);
      continue;
    }
    if (o && typeof o === 'object' && !Array.isArray(o)) yield { o: o as Record<string, unknown>, line };
    else warn(`${rel}:${line}: not an object; skipped`);
  }
}
