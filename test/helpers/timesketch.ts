/**
 * Test-side readers for the timeline exports, written independently of the exporters: an RFC 4180
 * CSV parser, a checker applying Timesketch's import rules, and a bodyfile reader.
 */

/** RFC 4180: fields separated by `,`, records by CRLF (LF tolerated); `"…"` quoting with `""` escapes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  let fieldStarted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        const n = text[i];
        if (n !== undefined && n !== ',' && n !== '\r' && n !== '\n')
          throw new Error(`CSV: text after a closing quote at ${i}`);
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"') {
      if (fieldStarted) throw new Error(`CSV: quote inside an unquoted field at ${i}`);
      quoted = true;
      fieldStarted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
      i++;
    } else if (c === '\r' || c === '\n') {
      if (c === '\r' && text[i + 1] !== '\n')
        throw new Error(`CSV: bare CR outside quotes at ${i}`);
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
      i += c === '\r' ? 2 : 1;
    } else {
      field += c;
      fieldStarted = true;
      i++;
    }
  }
  if (quoted) throw new Error('CSV: unterminated quoted field');
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

const DATETIME = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-]\d\d:\d\d)$/;

/** Microseconds of an ISO 8601 time with an explicit offset (Timesketch rejects naive times). */
export function datetimeMicros(s: string): number {
  const m = DATETIME.exec(s);
  if (!m) throw new Error(`datetime "${s}" is not ISO 8601 with an explicit offset`);
  const sign = m[8][0] === '-' ? -1 : 1;
  const off = sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  const ms = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) - off * 60_000;
  return ms * 1000 + Number((m[7] ?? '').padEnd(6, '0'));
}

/** Timesketch's rules for one row: message, datetime with offset, timestamp_desc; timestamp == datetime in µs. */
export function timesketchProblems(row: Record<string, unknown>): string[] {
  const p: string[] = [];
  if (typeof row.message !== 'string') p.push('no message');
  if (typeof row.timestamp_desc !== 'string' || !row.timestamp_desc) p.push('no timestamp_desc');
  let us: number | undefined;
  try {
    us = datetimeMicros(String(row.datetime));
  } catch (err) {
    p.push((err as Error).message);
  }
  if (row.timestamp !== undefined && row.timestamp !== '') {
    const ts = Number(row.timestamp);
    if (!Number.isSafeInteger(ts)) p.push(`timestamp ${String(row.timestamp)} is not an integer`);
    else if (us !== undefined && ts !== us)
      p.push(`timestamp ${ts} != datetime ${String(row.datetime)} (${us})`);
  }
  return p;
}

/** CSV text → objects keyed by the header, checking every row has all columns. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r, i) => {
    if (r.length !== header.length)
      throw new Error(`CSV row ${i + 2} has ${r.length} fields, header has ${header.length}`);
    return Object.fromEntries(header.map((h, j) => [h, r[j]]));
  });
}

export interface BodyRow {
  md5: string;
  name: string;
  inode: string;
  mode: string;
  uid: number;
  gid: number;
  size: number;
  atime: number;
  mtime: number;
  ctime: number;
  crtime: number;
}

/** Reads a bodyfile the way mactime does (split on `|`, 11 fields) and undoes cirt's name escaping. */
export function parseBodyfile(text: string, unescape: (s: string) => string): BodyRow[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((line, i) => {
      const f = line.split('|');
      if (f.length !== 11)
        throw new Error(`bodyfile line ${i + 1} has ${f.length} fields: ${JSON.stringify(line)}`);
      return {
        md5: f[0],
        name: unescape(f[1]),
        inode: f[2],
        mode: f[3],
        uid: +f[4],
        gid: +f[5],
        size: +f[6],
        atime: +f[7],
        mtime: +f[8],
        ctime: +f[9],
        crtime: +f[10],
      };
    });
}
