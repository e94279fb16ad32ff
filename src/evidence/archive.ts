import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { FailureError } from '../errors.js';
import { HashingFileWriter } from './hashing-writer.js';
import { ParallelGzip } from './parallel-gzip.js';
import { writeNewFile } from './paths.js';
import { writeErrno } from './write-errors.js';

export interface Bundle {
  path: string;
  sha256: string;
  bytes: number;
}

/** `<hex>  <name>` for `<bundle>.sha256`, so `sha256sum -c CASE.tar.gz.sha256` works beside it. */
export function bundleSumLine(sha256: string, bundlePath: string): string {
  return `${sha256}  ${path.basename(bundlePath)}\n`;
}

/**
 * Archives a sealed case folder into `<casesDir>/<case-id>.tar.gz` (the folder is the archive's
 * single top directory), hashing the compressed bytes on their way to disk, and writes
 * `<case-id>.tar.gz.sha256` beside it. `entries` are the folder's directories and files, relative.
 * An existing bundle is never overwritten.
 */
export async function writeBundle(
  root: string,
  entries: { dirs: string[]; files: string[] },
  opts: { gzipLevel?: number; onBytes?: (n: number) => void } = {},
): Promise<Bundle> {
  const top = path.basename(root);
  const dest = path.join(path.dirname(root), `${top}.tar.gz`);
  const sumFile = `${dest}.sha256`;
  for (const f of [dest, sumFile]) {
    if (fs.existsSync(f))
      throw new FailureError(`${f} exists already`, {
        hint: 'Move the old bundle away, then run `cirt seal --case <id>` again to archive the sealed folder.',
      });
  }
  const tmp = `${dest}.partial-${process.pid}`;
  // The tar stream is compressed by ParallelGzip (members compressed across cores, stored where the
  // data does not compress), not by archiver's single-threaded gzip: sealing kept a responder
  // waiting ~9x longer than collecting (issue 12). The result is still one standard .tar.gz.
  // archiver (and its stream libraries) is loaded when a bundle is written, not by every command
  // that can reach this module (`cirt run contain` never archives).
  const { TarArchive } = await import('archiver');
  const archive = new TarArchive({ gzip: false });
  const warnings: Error[] = [];
  archive.on('warning', (err: Error) => warnings.push(err));
  let linked = false;
  try {
    // The archive is hashed on its way to disk, never read back.
    const out = new HashingFileWriter(tmp, opts.onBytes);
    const written = pipeline(archive, new ParallelGzip({ level: opts.gzipLevel ?? 6 }), out.stream);
    archive.file(root, { name: top });
    for (const d of entries.dirs) archive.file(path.join(root, d), { name: `${top}/${d}` });
    for (const f of entries.files) archive.file(path.join(root, f), { name: `${top}/${f}` });
    await Promise.all([archive.finalize(), written]);
    if (warnings.length) throw warnings[0];
    const { sha256, bytes, complete, error } = await out.done();
    if (!complete) throw error ?? new Error('the archive was not written whole');
    // link() refuses to replace an existing file, unlike rename(): a bundle is never overwritten.
    fs.linkSync(tmp, dest);
    linked = true;
    fs.unlinkSync(tmp);
    writeNewFile(sumFile, bundleSumLine(sha256, dest));
    return { path: dest, sha256, bytes };
  } catch (err) {
    // No partial bundle stays behind posing as one: a bundle exists only with its .sha256, both whole.
    fs.rmSync(tmp, { force: true });
    if (linked) {
      fs.rmSync(dest, { force: true });
      fs.rmSync(sumFile, { force: true });
    }
    const errno = writeErrno(err);
    const why =
      errno === 'ENOSPC'
        ? `the cases folder ${path.dirname(root)} is full (ENOSPC); the partial bundle was removed`
        : (err as Error).message;
    throw new FailureError(`archiving ${root} into ${dest} failed: ${why}`, {
      hint: `The sealed case folder is intact; free space or fix the cause, then run \`cirt seal --case ${top}\` to archive it again.`,
      cause: err,
    });
  }
}
