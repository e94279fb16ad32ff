import fs from 'node:fs';
import path from 'node:path';
import { FailureError } from '../errors.js';
import { checkChain, CustodyLog } from './custody.js';

/**
 * Custody records made after a case was sealed (e.g. by `cirt release`). The sealed files must
 * not change, so these go to their own file in the case folder, which continues the sealed chain:
 * its first record's prevHash is the hash of the last record of custody.jsonl and seq goes on
 * from there. Verify treats this one file specially (it is not listed in SHA256SUMS).
 */
export const POST_SEAL_FILE = 'custody.post-seal.jsonl';

export const PostSealCustody = {
  /** Opens the post-seal log of a case, checking both files as one chain. */
  open(root: string): CustodyLog {
    const sealedText = read(path.join(root, 'custody.jsonl'));
    const file = path.join(root, POST_SEAL_FILE);
    const postText = read(file);
    const sealedCount = sealedText.split('\n').filter((l) => l !== '').length;
    const { records, problems } = checkChain(sealedText + postText);
    if (problems.length) {
      const p = problems[0];
      throw p.line <= sealedCount
        ? damaged('custody.jsonl', p)
        : damaged(POST_SEAL_FILE, { ...p, line: p.line - sealedCount });
    }
    return CustodyLog.continuing(file, Buffer.from(postText), records);
  },
};

function read(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

function damaged(name: string, p: { line: number; message: string }): FailureError {
  return new FailureError(
    `custody log ${name} of the case is damaged at line ${p.line}: ${p.message}`,
    {
      hint: 'Nothing was changed. Compare the case folder with its sealed bundle before going on.',
    },
  );
}
