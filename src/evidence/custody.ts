import { createHash } from 'node:crypto';
import fs from 'node:fs';

/** Hash that starts every custody chain. */
export const GENESIS = '0'.repeat(64);

export interface CustodyInput {
  actor: string;
  action: string;
  target?: { id: string; name: string } | null;
  step?: string;
  params?: unknown;
  result: 'ok' | 'noop' | 'failed' | 'skipped' | 'approved' | 'refused' | 'interrupted' | 'info';
  message?: string;
  artifacts?: { path: string; sha256: string; bytes: number }[];
  details?: unknown;
}

export interface CustodyRecord extends CustodyInput {
  seq: number;
  time: string;
  prevHash: string;
  hash: string;
}

/**
 * The custody chain: one JSON line per handling. A line's `hash` is the sha256 of the
 * line's own JSON without the trailing `,"hash":"…"` member, and each record carries the
 * previous record's hash, so any edit, removal or reordering is detectable — also with
 * stock tools: `sed 's/,"hash":"[0-9a-f]*"}$/}/' | sha256sum`, line by line.
 */
export function encodeRecord(body: Omit<CustodyRecord, 'hash'>): { line: string; hash: string } {
  const json = JSON.stringify(body);
  const hash = createHash('sha256').update(json).digest('hex');
  return { line: `${json.slice(0, -1)},"hash":"${hash}"}`, hash };
}

export interface ChainProblem {
  line: number;
  message: string;
}

/** Checks a whole custody text; returns the records and every problem found. */
export function checkChain(text: string): { records: CustodyRecord[]; problems: ChainProblem[] } {
  const problems: ChainProblem[] = [];
  const records: CustodyRecord[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let prev = GENESIS;
  lines.forEach((line, i) => {
    const n = i + 1;
    const m = /^(.*),"hash":"([0-9a-f]{64})"\}$/.exec(line);
    if (!m) {
      problems.push({ line: n, message: 'not a custody record (no trailing hash)' });
      return;
    }
    const body = `${m[1]}}`;
    const actual = createHash('sha256').update(body).digest('hex');
    let rec: CustodyRecord;
    try {
      rec = JSON.parse(line) as CustodyRecord;
    } catch {
      problems.push({ line: n, message: 'not valid JSON' });
      return;
    }
    if (actual !== m[2]) problems.push({ line: n, message: `record was edited (hash ${m[2].slice(0, 12)}… does not match content ${actual.slice(0, 12)}…)` });
    if (rec.prevHash !== prev) problems.push({ line: n, message: `chain broken: prevHash does not match the hash of record ${n - 1} (a record was removed, inserted or reordered)` });
    if (rec.seq !== n) problems.push({ line: n, message: `sequence number ${rec.seq} where ${n} was expected` });
    prev = m[2];
    records.push(rec);
  });
  return { records, problems };
}

/** Appends records to custody.jsonl, continuing an existing chain. Writes are serialised. */
export class CustodyLog {
  private seq: number;
  private prev: string;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly file: string,
    seq: number,
    prev: string,
  ) {
    this.seq = seq;
    this.prev = prev;
  }

  static open(file: string): CustodyLog {
    let seq = 0;
    let prev = GENESIS;
    if (fs.existsSync(file)) {
      const { records, problems } = checkChain(fs.readFileSync(file, 'utf8'));
      if (problems.length) {
        throw new Error(`custody log ${file} is damaged at line ${problems[0].line}: ${problems[0].message}`);
      }
      const last = records[records.length - 1];
      if (last) {
        seq = last.seq;
        prev = last.hash;
      }
    }
    return new CustodyLog(file, seq, prev);
  }

  /** Records one handling; resolves once the line is on disk (fsync'd). */
  append(input: CustodyInput): Promise<CustodyRecord> {
    this.seq += 1;
    const body = { seq: this.seq, time: new Date().toISOString(), ...input, prevHash: this.prev };
    const { line, hash } = encodeRecord(body);
    this.prev = hash;
    const rec = { ...body, hash } as CustodyRecord;
    const write = this.queue.then(async () => {
      const fh = await fs.promises.open(this.file, 'a', 0o644);
      try {
        await fh.write(`${line}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
    });
    this.queue = write.catch(() => undefined);
    return write.then(() => rec);
  }

  get lastHash(): string {
    return this.prev;
  }

  async flush(): Promise<void> {
    await this.queue;
  }
}
