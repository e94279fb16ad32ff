import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../engine/errors.js';
import { checkChain, durableAppender, encodeRecord, type CustodyInput, type CustodyRecord } from './custody.js';

/**
 * Custody records made after a case was sealed (e.g. by `cirt release`). The sealed files must
 * not change, so these go to their own file in the case folder, which continues the sealed chain:
 * its first record's prevHash is the hash of the last record of custody.jsonl and seq goes on
 * from there. Verify treats this one file specially (it is not listed in SHA256SUMS).
 */
export const POST_SEAL_FILE = 'custody.post-seal.jsonl';

export class PostSealCustody {
  private readonly writeLine: (line: string) => Promise<void>;

  private constructor(
    readonly file: string,
    private seq: number,
    private prev: string,
  ) {
    this.writeLine = durableAppender(file);
  }

  /** Opens the post-seal log of a case, checking both chains end to end. */
  static open(root: string): PostSealCustody {
    const sealed = checkChain(read(path.join(root, 'custody.jsonl')));
    if (sealed.problems.length) throw damaged('custody.jsonl', sealed.problems[0]);
    const last = sealed.records[sealed.records.length - 1];
    let seq = last?.seq ?? 0;
    let prev = last?.hash ?? '0'.repeat(64);
    const file = path.join(root, POST_SEAL_FILE);
    const lines = read(file).split('\n').filter((l) => l !== '');
    lines.forEach((line, i) => {
      const m = /^(.*),"hash":"([0-9a-f]{64})"\}$/.exec(line);
      const rec = m ? (JSON.parse(line) as CustodyRecord) : undefined;
      const ok = m && rec && createHash('sha256').update(`${m[1]}}`).digest('hex') === m[2] && rec.prevHash === prev && rec.seq === seq + 1;
      if (!ok) throw damaged(POST_SEAL_FILE, { line: i + 1, message: 'record edited, reordered or not chained to the one before' });
      seq = rec.seq;
      prev = rec.hash;
    });
    return new PostSealCustody(file, seq, prev);
  }

  /** Appends one record (fsync'd), chained to the previous one. */
  append(input: CustodyInput): Promise<CustodyRecord> {
    this.seq += 1;
    const body = { seq: this.seq, time: new Date().toISOString(), ...input, prevHash: this.prev };
    const { line, hash } = encodeRecord(body);
    this.prev = hash;
    return this.writeLine(line).then(() => ({ ...body, hash }) as CustodyRecord);
  }
}

function read(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

function damaged(name: string, p: { line: number; message: string }): FailureError {
  return new FailureError(`custody log ${name} of the case is damaged at line ${p.line}: ${p.message}`, {
    hint: 'Nothing was changed. Compare the case folder with its sealed bundle before going on.',
  });
}
