/**
 * Writes tar (POSIX ustar + PAX) headers for the archives cirt builds itself (fs/mounts/<n>.tar).
 * Names are raw bytes (a container's names need not be UTF-8); what does not fit ustar goes in a
 * PAX record, which GNU tar, bsdtar and Python's tarfile read.
 */
export const BLOCK = 512;

export interface TarHeaderInput {
  /** Entry name bytes, without a leading slash; directories without the trailing one (added here). */
  name: Buffer;
  type: 'file' | 'directory' | 'symlink' | 'fifo' | 'character-device' | 'block-device';
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds. */
  mtime: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}

const FLAG: Record<TarHeaderInput['type'], string> = {
  file: '0',
  directory: '5',
  symlink: '2',
  fifo: '6',
  'character-device': '3',
  'block-device': '4',
};

function fits(n: number, len: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n < 8 ** (len - 1);
}

function putOctal(b: Buffer, off: number, len: number, n: number): void {
  b.write(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function block(h: {
  name: Buffer;
  flag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname?: Buffer;
  devmajor?: number;
  devminor?: number;
}): Buffer {
  const b = Buffer.alloc(BLOCK);
  h.name.copy(b, 0, 0, Math.min(100, h.name.length));
  putOctal(b, 100, 8, h.mode & 0o7777);
  putOctal(b, 108, 8, fits(h.uid, 8) ? h.uid : 0);
  putOctal(b, 116, 8, fits(h.gid, 8) ? h.gid : 0);
  putOctal(b, 124, 12, fits(h.size, 12) ? h.size : 0);
  putOctal(b, 136, 12, fits(h.mtime, 12) ? h.mtime : 0);
  b.write(h.flag, 156, 1, 'latin1');
  h.linkname?.copy(b, 157, 0, Math.min(100, h.linkname.length));
  b.write('ustar\u000000', 257, 8, 'latin1');
  putOctal(b, 329, 8, fits(h.devmajor ?? 0, 8) ? (h.devmajor ?? 0) : 0);
  putOctal(b, 337, 8, fits(h.devminor ?? 0, 8) ? (h.devminor ?? 0) : 0);
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

/** The header block(s) of one entry: a PAX header first when a value does not fit ustar. */
export function tarHeader(h: TarHeaderInput): Buffer {
  const name = h.type === 'directory' ? Buffer.concat([h.name, Buffer.from('/')]) : h.name;
  const pax: Buffer[] = [];
  if (name.length > 100) pax.push(paxRecord('path', name));
  if (h.linkname && h.linkname.length > 100) pax.push(paxRecord('linkpath', h.linkname));
  if (!fits(h.size, 12)) pax.push(paxRecord('size', Buffer.from(String(h.size))));
  if (!fits(h.uid, 8)) pax.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (!fits(h.gid, 8)) pax.push(paxRecord('gid', Buffer.from(String(h.gid))));
  if (!fits(h.mtime, 12)) pax.push(paxRecord('mtime', Buffer.from(String(h.mtime))));
  const main = block({ ...h, name, flag: FLAG[h.type] });
  if (!pax.length) return main;
  const data = Buffer.concat(pax);
  const head = block({
    name: Buffer.from('PaxHeader'),
    flag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: data.length,
    mtime: fits(h.mtime, 12) ? h.mtime : 0,
  });
  return Buffer.concat([head, data, Buffer.alloc(padding(data.length)), main]);
}

/** Zero bytes that bring `size` to a whole block. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
