import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { PassThrough, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { extract, type Extract } from 'tar-stream';
import { UserError } from '../errors.js';
import { safeText } from '../util/sanitize.js';

/**
 * Read-only access to a case, whether a folder or a sealed bundle (`<case>.tar.gz`).
 * A bundle is never extracted to disk: members are streamed out of the archive.
 */
export interface CaseSource {
  readonly kind: 'dir' | 'bundle';
  /** The path given, for messages. */
  readonly label: string;
  /** Every regular file, case-relative, `/`-separated. */
  list(): Promise<string[]>;
  exists(rel: string): Promise<boolean>;
  readText(rel: string): Promise<string>;
  createReadStream(rel: string): Readable;
}

/** Largest member read whole into memory (readText); streams have no limit. */
const MAX_TEXT = 512 * 1024 * 1024;
/** Bundle members up to this size are kept from the first pass, so small JSON is not re-inflated each time. */
const CACHE_MEMBER = 8 * 1024 * 1024;
const CACHE_TOTAL = 128 * 1024 * 1024;

/** A case-relative path we are willing to look up: no absolute, `..`, or empty segments. */
function checkRel(rel: string): string {
  const parts = rel.split('/');
  if (!rel || rel.startsWith('/') || parts.some((p) => !p || p === '.' || p === '..')) {
    throw new Error(`not a case-relative path: ${safeText(rel)}`);
  }
  return rel;
}

/** Opens a case folder or a sealed bundle for reading. */
export async function openCaseSource(
  p: string,
  opts: { warn?: (m: string) => void } = {},
): Promise<CaseSource> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(p);
  } catch (err) {
    throw new UserError(`Cannot open ${safeText(p)}: ${(err as Error).message}`, {
      hint: 'Pass a case folder (cases/<id>) or a sealed bundle (cases/<id>.tar.gz).',
    });
  }
  if (st.isDirectory()) return new DirSource(path.resolve(p), p);
  if (st.isFile()) return BundleSource.open(path.resolve(p), p, opts.warn ?? (() => undefined));
  throw new UserError(`${safeText(p)} is neither a folder nor a file`, {
    hint: 'Pass a case folder or a .tar.gz bundle.',
  });
}

class DirSource implements CaseSource {
  readonly kind = 'dir' as const;
  constructor(
    private readonly root: string,
    readonly label: string,
  ) {}

  private full(rel: string): string {
    return path.join(this.root, ...checkRel(rel).split('/'));
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    const walk = async (dir: string, prefix: string, depth: number): Promise<void> => {
      if (depth > 16) return;
      for (const d of await fs.promises.readdir(dir, { withFileTypes: true })) {
        // Symlinks are never followed: a case folder only holds files we wrote.
        if (d.isDirectory()) await walk(path.join(dir, d.name), `${prefix}${d.name}/`, depth + 1);
        else if (d.isFile()) out.push(`${prefix}${d.name}`);
      }
    };
    await walk(this.root, '', 0);
    return out.sort();
  }

  async exists(rel: string): Promise<boolean> {
    try {
      return (await fs.promises.lstat(this.full(rel))).isFile();
    } catch {
      return false;
    }
  }

  async readText(rel: string): Promise<string> {
    const fh = await fs.promises.open(
      this.full(rel),
      fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW,
    );
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`${rel} is not a regular file`);
      if (st.size > MAX_TEXT)
        throw new Error(`${rel} is larger than ${MAX_TEXT} bytes; it can only be streamed`);
      return await fh.readFile('utf8');
    } finally {
      await fh.close();
    }
  }

  createReadStream(rel: string): Readable {
    const fd = fs.openSync(this.full(rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return fs.createReadStream('', { fd, highWaterMark: 256 * 1024 });
  }
}

interface Member {
  raw: string;
  size: number;
  body?: Buffer;
}

class BundleSource implements CaseSource {
  readonly kind = 'bundle' as const;
  private constructor(
    private readonly file: string,
    readonly label: string,
    private readonly members: Map<string, Member>,
  ) {}

  /** One pass over the archive: index the members and keep the small ones. */
  static async open(file: string, label: string, warn: (m: string) => void): Promise<BundleSource> {
    const found: Member[] = [];
    let cached = 0;
    try {
      for await (const entry of archiveEntries(file)) {
        const h = entry.header;
        const raw = h.name;
        if (h.type !== 'file' && h.type !== 'contiguous-file') {
          if (h.type !== 'directory')
            warn(`bundle member ${safeText(raw)} is a ${h.type}, not a file: ignored`);
          entry.resume();
          continue;
        }
        const size = h.size ?? 0;
        const keep =
          size <= CACHE_MEMBER && cached + size <= CACHE_TOTAL && !/\.(tar|log)$/.test(raw);
        if (keep) {
          const chunks: Buffer[] = [];
          for await (const c of entry) chunks.push(c as Buffer);
          cached += size;
          found.push({ raw, size, body: Buffer.concat(chunks) });
        } else {
          entry.resume();
          found.push({ raw, size });
        }
      }
    } catch (err) {
      throw new UserError(`Cannot read bundle ${safeText(label)}: ${(err as Error).message}`, {
        hint: 'Check the file is a cirt bundle (.tar.gz) and verify it with `sha256sum -c`.',
      });
    }
    const members = new Map<string, Member>();
    const names = found.map((m) => m.raw.replace(/^\.\//, ''));
    // A bundle holds one top folder (the case id); paths inside the case are what we look up.
    const top = names[0]?.split('/')[0];
    const strip = top !== undefined && names.every((n) => n.startsWith(`${top}/`));
    found.forEach((m, i) => {
      const rel = strip ? names[i].slice(top.length + 1) : names[i];
      try {
        members.set(checkRel(rel), m);
      } catch {
        warn(`bundle member ${safeText(m.raw)} has an unsafe path: ignored`);
      }
    });
    return new BundleSource(file, label, members);
  }

  private member(rel: string): Member {
    const m = this.members.get(checkRel(rel));
    if (!m)
      throw Object.assign(new Error(`${rel} is not in bundle ${this.label}`), { code: 'ENOENT' });
    return m;
  }

  async list(): Promise<string[]> {
    return [...this.members.keys()].sort();
  }

  async exists(rel: string): Promise<boolean> {
    return this.members.has(rel);
  }

  async readText(rel: string): Promise<string> {
    const m = this.member(rel);
    if (m.body) return m.body.toString('utf8');
    if (m.size > MAX_TEXT)
      throw new Error(`${rel} is larger than ${MAX_TEXT} bytes; it can only be streamed`);
    const chunks: Buffer[] = [];
    for await (const c of this.createReadStream(rel)) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  createReadStream(rel: string): Readable {
    const m = this.member(rel);
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    if (m.body) {
      out.end(m.body);
      return out;
    }
    void (async () => {
      for await (const entry of archiveEntries(this.file)) {
        if (entry.header.name !== m.raw) {
          entry.resume();
          continue;
        }
        for await (const c of entry) if (!out.write(c)) await once(out, 'drain');
        out.end();
        return; // leaving the loop closes the archive
      }
      throw new Error(`${rel} vanished from bundle ${this.label}`);
    })().catch((err: Error) => out.destroy(err));
    return out;
  }
}

type Entry = Extract extends AsyncIterable<infer T> ? T : never;

/** The entries of a tar (gzip or plain, sniffed), as tar-stream's async iterator. */
function archiveEntries(file: string): AsyncIterable<Entry> {
  const fd = fs.openSync(file, 'r');
  const magic = Buffer.alloc(2);
  fs.readSync(fd, magic, 0, 2, 0);
  const input = fs.createReadStream('', { fd, highWaterMark: 1024 * 1024 });
  const ex = extract();
  // tar-stream's streams are streamx ones: wire errors by hand rather than through node's pipeline.
  const fail = (err: Error): void => {
    ex.destroy(err);
  };
  input.on('error', fail);
  ex.on('close', () => input.destroy());
  const sink = ex as unknown as NodeJS.WritableStream;
  if (magic[0] === 0x1f && magic[1] === 0x8b)
    input.pipe(zlib.createGunzip().on('error', fail)).pipe(sink);
  else input.pipe(sink);
  return ex;
}
