import { createHash, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { formatSums } from '../evidence/sha256sums.js';
import { publicPem, signData } from '../evidence/sign.js';
import { segmentStem } from './record.js';

/** The seal files of a closed segment, beside it: `<stem>.SHA256SUMS`, `.SHA256SUMS.sig`, `.pub.pem`. */
export function sealFiles(
  dir: string,
  segment: string,
): { sums: string; sig: string; pub: string } {
  const stem = path.join(dir, segmentStem(segment));
  return { sums: `${stem}.SHA256SUMS`, sig: `${stem}.SHA256SUMS.sig`, pub: `${stem}.pub.pem` };
}

export function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (!n) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

/**
 * Seals a closed segment as a bundle is sealed: a coreutils SHA256SUMS naming it (`sha256sum -c`
 * checks it in the journal folder), a raw Ed25519 signature of that file, and the public key.
 * Each file is written under a temporary name and renamed, so a crash never leaves half a seal.
 */
export function sealSegment(dir: string, segment: string, key: KeyObject): { sha256: string } {
  const sha256 = sha256File(path.join(dir, segment));
  const sums = Buffer.from(formatSums([{ name: segment, sha256 }]));
  const f = sealFiles(dir, segment);
  writeAtomic(f.pub, publicPem(key));
  writeAtomic(f.sig, signData(sums, key));
  // The SHA256SUMS last: its presence is what marks the segment sealed.
  writeAtomic(f.sums, sums);
  return { sha256 };
}

function writeAtomic(file: string, data: string | Buffer): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, data, { mode: 0o644 });
  fs.renameSync(tmp, file);
}

export function isSealed(dir: string, segment: string): boolean {
  return fs.existsSync(sealFiles(dir, segment).sums);
}
