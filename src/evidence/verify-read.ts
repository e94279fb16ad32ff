import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import tar from 'tar-stream';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';
import { listFolder } from './case-files.js';

/** What verify saw in a case folder or bundle: hashes of every file, the small control files' bytes. */
export interface Observed {
  kind: 'folder' | 'bundle';
  /** The case folder's name (a bundle's single top folder). */
  top: string;
  files: Map<string, { sha256: string; bytes: number }>;
  /** Contents of the control files (SHA256SUMS, manifest, custody, signature, key, case.json). */
  texts: Map<string, Buffer>;
  /** Things that must not be in a case: links, devices, paths outside the top folder, truncation. */
  odd: { name: string; why: string }[];
  /** For a bundle: the hash of its compressed bytes, computed while reading it. */
  bundle?: { sha256: string; bytes: number };
}

/** Files whose content verify needs, with how large each may reasonably be. */
export const CONTROL_FILES: Record<string, number> = {
  SHA256SUMS: 256 << 20,
  'SHA256SUMS.sig': 4096,
  'SHA256SUMS.tsr': 256 * 1024,
  'pub.pem': 16384,
  'manifest.json': 512 << 20,
  'case.json': 16 << 20,
  'custody.jsonl': 512 << 20,
  'custody.post-seal.jsonl': 64 << 20,
};

const CHUNK = 4 << 20;

/** Hashes one file with a big reused buffer (throughput close to sha256sum); keeps the bytes of control files. */
export async function hashFile(
  file: string,
  keep = 0,
): Promise<{ sha256: string; bytes: number; data?: Buffer }> {
  const fh = await fs.promises.open(file, 'r');
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let bytes = 0;
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
      if (!bytesRead) break;
      const piece = buf.subarray(0, bytesRead);
      hash.update(piece);
      if (bytes + bytesRead <= keep) kept.push(Buffer.from(piece));
      bytes += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return {
    sha256: hash.digest('hex'),
    bytes,
    ...(keep && bytes <= keep ? { data: Buffer.concat(kept) } : {}),
  };
}

/** Reads a case folder (no symlink is followed; links and special files are reported). */
export async function readFolder(dir: string): Promise<Observed> {
  const listing = await listFolder(dir);
  const obs: Observed = {
    kind: 'folder',
    top: path.basename(path.resolve(dir)),
    files: new Map(),
    texts: new Map(),
    odd: listing.odd.map((o) => ({ name: o.rel, why: o.why })),
  };
  for (const f of listing.files) {
    const r = await hashFile(path.join(dir, f.rel), CONTROL_FILES[f.rel] ?? 0);
    obs.files.set(f.rel, { sha256: r.sha256, bytes: r.bytes });
    if (r.data) obs.texts.set(f.rel, r.data);
    else if (CONTROL_FILES[f.rel] !== undefined)
      obs.odd.push({ name: f.rel, why: `is ${r.bytes} bytes, larger than any real one` });
  }
  return obs;
}

/** Splits a bundle entry name into the top folder and the path inside it; null when it is not a safe relative name. */
export function splitEntryName(name: string): { top: string; rel: string } | null {
  const clean = name.replace(/\/+$/, '');
  if (!clean || clean.startsWith('/') || /\\|\0/.test(clean)) return null;
  const parts = clean.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return null;
  return { top: parts[0], rel: parts.slice(1).join('/') };
}

/**
 * Reads a .tar.gz bundle as a stream, never writing anything to disk: every entry is hashed as
 * it goes by; only the control files are kept in memory. Not gzip at all → UserError (exit 2).
 */
export async function readBundle(file: string): Promise<Observed> {
  const fh = await fs.promises.open(file, 'r');
  const magic = Buffer.alloc(2);
  await fh.read(magic, 0, 2, 0).finally(() => fh.close());
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) {
    throw new UserError(`${safeText(file)} is not a gzip file, so not a cirt bundle`, {
      hint: 'Pass a <case-id>.tar.gz made by cirt, or a case folder.',
    });
  }
  const obs: Observed = { kind: 'bundle', top: '', files: new Map(), texts: new Map(), odd: [] };
  const outer = createHash('sha256');
  let outerBytes = 0;
  const counter = new Transform({
    highWaterMark: CHUNK,
    transform(chunk: Buffer, _e, cb) {
      outer.update(chunk);
      outerBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const extract = tar.extract();
  extract.on('entry', (header, stream, next) => {
    const at = splitEntryName(header.name);
    const name = header.name;
    const bad = (why: string): void => {
      obs.odd.push({ name, why });
      stream.resume();
      stream.on('end', next);
    };
    if (!at)
      return bad('is not a plain relative path inside one folder (absolute, `..`, or empty parts)');
    if (!obs.top) obs.top = at.top;
    if (at.top !== obs.top) return bad(`is outside the bundle's single top folder ${obs.top}`);
    if (header.type === 'directory') {
      stream.resume();
      stream.on('end', next);
      return;
    }
    if (header.type !== 'file' && header.type !== 'contiguous-file')
      return bad(`is a ${header.type}; a bundle holds only files and folders`);
    if (!at.rel) return bad('is a file in place of the top folder');
    const keep = CONTROL_FILES[at.rel] ?? 0;
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let bytes = 0;
    stream.on('data', (data: unknown) => {
      const c = data as Buffer;
      hash.update(c);
      if (bytes + c.length <= keep) kept.push(c);
      bytes += c.length;
    });
    stream.on('end', () => {
      if (obs.files.has(at.rel)) obs.odd.push({ name, why: 'appears twice in the bundle' });
      obs.files.set(at.rel, { sha256: hash.digest('hex'), bytes });
      if (keep && bytes <= keep) obs.texts.set(at.rel, Buffer.concat(kept));
      else if (keep)
        obs.odd.push({ name: at.rel, why: `is ${bytes} bytes, larger than any real one` });
      next();
    });
  });
  try {
    await pipeline(
      fs.createReadStream(file, { highWaterMark: CHUNK }),
      counter,
      zlib.createGunzip({ chunkSize: 1 << 20 }),
      extract,
    );
  } catch (err) {
    obs.odd.push({
      name: path.basename(file),
      why: `is corrupt: ${(err as Error).message} (after ${outerBytes} compressed bytes)`,
    });
  }
  obs.bundle = { sha256: outer.digest('hex'), bytes: outerBytes };
  return obs;
}
