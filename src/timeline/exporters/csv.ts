import type { TimelineEvent } from '../event.js';

/**
 * Timesketch CSV: the required columns first (message, datetime, timestamp_desc, timestamp), then
 * extra columns Timesketch keeps as attributes. RFC 4180: a field holding `"`, `,`, CR or LF is quoted
 * and its quotes doubled; rows end with CRLF.
 *
 * Decision: text is written as it is — a newline inside a file name stays a newline inside a quoted
 * field — rather than escaped as `\n`. That keeps the CSV lossless (an escaped `\n` could not be told
 * from a literal backslash-n) and Timesketch's importer (pandas) reads quoted newlines. ANSI escapes
 * are kept too; they are only neutralised when printed to a terminal. Not meant for spreadsheets:
 * a cell starting with `=` is not defused.
 */
export const CSV_COLUMNS = [
  'message',
  'datetime',
  'timestamp_desc',
  'timestamp',
  'id',
  'source',
  'kind',
  'actor',
  'artifact',
  'line',
  'entry',
  'field',
  'attrs',
  'engine',
] as const;

const NEEDS_QUOTES = /[",\r\n]/;

export function csvField(value: string): string {
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.join(',')}\r\n`;
}

export function csvRow(e: TimelineEvent): string {
  // datetime, timestamp, source, actor, line and entry are formatted by us from fixed alphabets;
  // everything that can carry text from the evidence (ids and kinds included) goes through csvField.
  return `${csvField(e.message)},${e.datetime},${csvField(e.timestamp_desc)},${e.timestamp},${csvField(e.id)},${e.source},${csvField(e.kind)},${e.actor},${csvField(e.ref.artifact)},${e.ref.line ?? ''},${e.ref.entry ?? ''},${csvField(e.ref.field ?? '')},${csvField(JSON.stringify(e.attrs))},${csvField(e.engine ?? '')}\r\n`;
}
