import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { FailureError } from '../errors.js';

/** Hash that starts every custody chain. */
export const GENESIS = '0'.repeat(64);

export interface CustodyInput {
  actor: string;
  action: string;
  target?: { id: string; name: string } | null;
  step?: string;
  params?: unknown;
  result:
    | 'ok'
    | 'noop'
    | 'partial'
    | 'incomplete'
    | 'failed'
    | 'skipped'
    | 'approved'
    | 'refused'
    | 'declined'
    | 'interrupted'
    | 'not-applicable'
    | 'info';
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
    if (actual !== m[2])
      problems.push({
        line: n,
        message: `record was edited (hash ${m[2].slice(0, 12)}… does not match content ${actual.slice(0, 12)}…)`,
      });
    if (rec.prevHash !== prev)
      problems.push({
        line: n,
        message: `chain broken: prevHash does not match the hash of record ${n - 1} (a record was removed, inserted or reordered)`,
      });
    if (rec.seq !== n)
      problems.push({ line: n, message: `sequence number ${rec.seq} where ${n} was expected` });
    prev = m[2];
    records.push(rec);
  });
  return { records, problems };
}

/** Appends records to custody.jsonl, continuing an existing chain. Writes are serialised. */
export class CustodyLog {
  private seq: number;
  private prev: string;
  private readonly writeLine: (line: string | (() => string)) => Promise<void>;
  /** Running sha256 of the file's bytes, so sealing never has to read it back to hash it. */
  private readonly fileHash = createHash('sha256');
  private fileBytes = 0;

  private constructor(
    readonly file: string,
    existing: Buffer,
    /** Every record of the chain so far (checked when opened), oldest first; appends join it. */
    readonly records: CustodyRecord[],
  ) {
    const last = records[records.length - 1];
    this.seq = last?.seq ?? 0;
    this.prev = last?.hash ?? GENESIS;
    this.writeLine = durableAppender(file);
    this.fileHash.update(existing);
    this.fileBytes = existing.length;
  }

  /**
   * Continues a chain whose earlier records live in another file (custody.post-seal.jsonl after
   * custody.jsonl): the caller has checked the records of both, in order, as one chain.
   */
  static continuing(file: string, existing: Buffer, records: CustodyRecord[]): CustodyLog {
    return new CustodyLog(file, existing, records);
  }

  static open(file: string): CustodyLog {
    if (!fs.existsSync(file)) return new CustodyLog(file, Buffer.alloc(0), []);
    const existing = fs.readFileSync(file);
    const { records, problems } = checkChain(existing.toString('utf8'));
    if (problems.length) {
      // An edited or damaged chain is evidence that does not verify (exit 1, as for custody.post-seal.jsonl),
      // not a bug: refuse to extend it, and say where.
      throw new FailureError(
        `custody log ${file} is damaged at line ${problems[0].line}: ${problems[0].message}`,
        {
          hint: 'Nothing was changed. Run `cirt verify` on the case for every problem; cirt will not add records to a broken chain.',
        },
      );
    }
    return new CustodyLog(file, existing, records);
  }

  /**
   * Records one handling; resolves once the line is on disk (fsync'd). The record is made when its
   * turn to be written comes, from the last record that reached the disk: a line the disk refused
   * (ENOSPC…) is cut off again and leaves no gap or fork in the chain, so the next append, or a
   * later `cirt seal`, continues a whole chain.
   */
  append(input: CustodyInput): Promise<CustodyRecord> {
    let made: { rec: CustodyRecord; line: string } | undefined;
    return this.writeLine(() => {
      const body = {
        seq: this.seq + 1,
        time: new Date().toISOString(),
        ...input,
        prevHash: this.prev,
      };
      const { line, hash } = encodeRecord(body);
      made = { rec: { ...body, hash } as CustodyRecord, line };
      return line;
    }).then(() => {
      const { rec, line } = made as { rec: CustodyRecord; line: string };
      this.seq = rec.seq;
      this.prev = rec.hash;
      this.fileHash.update(`${line}\n`);
      this.fileBytes += Buffer.byteLength(line) + 1;
      this.records.push(rec);
      return rec;
    });
  }

  async flush(): Promise<void> {
    await this.writeLine('');
  }

  /** sha256 and size of the file as written so far (await flush() first), computed as lines were appended. */
  digest(): { sha256: string; bytes: number } {
    return { sha256: this.fileHash.copy().digest('hex'), bytes: this.fileBytes };
  }
}

/**
 * Appends lines to a file one at a time, each fsync'd before the next, so custody survives a crash
 * right after the action it records. An empty line is not written (it only waits for the queue).
 * A line is made (a function) only when its turn comes. When the disk refuses it (ENOSPC, EIO…),
 * whatever part of it reached the file is cut off again, so the file only ever holds whole lines.
 */
export function durableAppender(file: string): (line: string | (() => string)) => Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  return (next) => {
    const write = queue.then(async () => {
      const line = typeof next === 'string' ? next : next();
      if (line === '') return;
      const fh = await fs.promises.open(file, 'a', 0o644);
      try {
        const before = (await fh.stat()).size;
        const data = Buffer.from(`${line}\n`);
        try {
          let off = 0;
          while (off < data.length) {
            const { bytesWritten } = await fh.write(data, off, data.length - off);
            if (bytesWritten === 0)
              throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
                code: 'ENOSPC',
              });
            off += bytesWritten;
          }
          await fh.sync();
        } catch (err) {
          await fh.truncate(before).catch(() => undefined);
          throw err;
        }
      } finally {
        await fh.close();
      }
    });
    queue = write.catch(() => undefined);
    return write;
  };
}
