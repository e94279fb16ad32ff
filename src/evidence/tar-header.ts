/**
 * Decoding of tar headers, byte-exact. Names stay Buffers: a container's file names are
 * attacker-controlled bytes (non-UTF-8, newlines…), and the engine (Go archive/tar) puts
 * non-ASCII names in PAX `path` records, which tar-stream decodes as UTF-8 and so loses.
 */

export const BLOCK = 512;

/** One decoded 512-byte header block (before PAX / GNU long-name overrides). */
export interface RawHeader {
  name: Buffer;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, as in the header. */
  mtime: number;
  typeflag: string;
  linkname: Buffer;
  uname: string;
  gname: string;
}

/** The PAX keys we apply; values are kept as raw bytes. */
export type PaxRecords = Map<string, Buffer>;

const TYPES: Record<string, string> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};

/** `0` → `file`, `5` → `directory`; unknown flags stay visible as `unknown-<flag>`. */
export function typeName(flag: string): string {
  return TYPES[flag] ?? `unknown-${flag.charCodeAt(0).toString(16).padStart(2, '0')}`;
}

/** True when a block is all zeros (an end-of-archive marker, or padding between concatenated archives). */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The field up to its first NUL, as a copy of its bytes (the block buffer is reused). */
function cstr(block: Buffer, start: number, len: number): Buffer {
  const end = block.indexOf(0, start);
  return Buffer.from(block.subarray(start, end < 0 || end > start + len ? start + len : end));
}

/** The field up to its first NUL as latin1 text (no copy of the bytes needed for that). */
function cstrText(block: Buffer, start: number, len: number): string {
  const end = block.indexOf(0, start);
  return block.toString('latin1', start, end < 0 || end > start + len ? start + len : end);
}

/** Octal (NUL/space padded) or GNU base-256 (high bit set) number. */
export function readNumber(block: Buffer, start: number, len: number): number {
  if (block[start] & 0x80) {
    const field = block.subarray(start, start + len);
    // Base-256, two's complement when the second-highest bit is set too.
    const negative = (field[0] & 0x40) !== 0;
    let v = BigInt(field[0] & 0x7f);
    for (let i = 1; i < field.length; i++) v = (v << 8n) | BigInt(field[i]);
    if (negative) v -= 1n << BigInt(field.length * 8 - 1);
    return Number(v);
  }
  // Octal, NUL/space padded either side; read in place (five of these per header, per member).
  let from = start;
  let to = start + len;
  while (to > from && (block[to - 1] === 0 || block[to - 1] === 0x20)) to--;
  while (from < to && (block[from] === 0 || block[from] === 0x20)) from++;
  let v = 0;
  for (let i = from; i < to; i++) {
    const digit = block[i] - 0x30;
    if (digit < 0 || digit > 7)
      throw new Error(`not an octal number: ${JSON.stringify(block.toString('latin1', from, to))}`);
    v = v * 8 + digit;
  }
  return v;
}

/** Checks the header checksum (unsigned sum, with the historic signed sum accepted too). */
export function checksumOk(block: Buffer): boolean {
  // The checksum field itself counts as eight spaces; a byte over 127 counts 256 less when signed.
  let unsigned = 8 * 0x20;
  let high = 0;
  for (let i = 0; i < BLOCK; i++) {
    if (i === 148) i = 156;
    const b = block[i];
    unsigned += b;
    if (b > 127) high++;
  }
  const signed = unsigned - 256 * high;
  let stored: number;
  try {
    stored = readNumber(block, 148, 8);
  } catch {
    return false;
  }
  return stored === unsigned || stored === signed;
}

/** Decodes one non-zero header block; throws when it is not a tar header. */
export function decodeHeader(block: Buffer): RawHeader {
  if (!checksumOk(block))
    throw new Error('bad header checksum (not a tar header, or the archive is corrupt)');
  let name = cstr(block, 0, 100);
  const magic = block.subarray(257, 263).toString('latin1');
  // POSIX ustar keeps a name prefix at 345; GNU's "ustar  " uses those bytes for other things.
  if (magic === 'ustar\0' && block[345] !== 0)
    name = Buffer.concat([cstr(block, 345, 155), Buffer.from('/'), name]);
  let typeflag = String.fromCharCode(block[156]);
  // Old tars mark directories with a trailing slash only.
  if ((typeflag === '0' || typeflag === '\0') && name.length && name[name.length - 1] === 0x2f)
    typeflag = '5';
  return {
    name,
    mode: readNumber(block, 100, 8),
    uid: readNumber(block, 108, 8),
    gid: readNumber(block, 116, 8),
    size: readNumber(block, 124, 12),
    mtime: readNumber(block, 136, 12),
    typeflag,
    linkname: cstr(block, 157, 100),
    uname: cstrText(block, 265, 32),
    gname: cstrText(block, 297, 32),
  };
}

/** Parses PAX extended header records (`<len> <key>=<value>\n`), values as raw bytes. */
export function parsePax(data: Buffer, into: PaxRecords = new Map()): PaxRecords {
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= space - pos || pos + len > data.length) {
      throw new Error(`malformed PAX record at byte ${pos}`);
    }
    const record = data.subarray(space + 1, pos + len - 1); // drop the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq > 0)
      into.set(record.subarray(0, eq).toString('utf8'), Buffer.from(record.subarray(eq + 1)));
    pos += len;
  }
  return into;
}

/** A PAX time (`1732822795.828245669`) or header seconds as an ISO string, nanoseconds kept. */
export function isoTime(seconds: number, paxValue?: Buffer): string | null {
  let whole = seconds;
  let frac = '';
  if (paxValue) {
    const m = /^(-?\d+)(?:\.(\d+))?$/.exec(paxValue.toString('latin1'));
    if (m) {
      whole = Number(m[1]);
      frac = (m[2] ?? '').slice(0, 9);
    }
  }
  const base = isoSeconds(whole);
  if (base === null) return null;
  return frac && /[1-9]/.test(frac) ? `${base}.${frac}Z` : `${base}Z`;
}

// The members of one archive mostly share their mtime seconds: the Date text is kept for a few.
const secondsText = new Map<number, string | null>();

function isoSeconds(whole: number): string | null {
  let text = secondsText.get(whole);
  if (text === undefined) {
    const d = new Date(whole * 1000);
    text = Number.isNaN(d.getTime()) ? null : d.toISOString().slice(0, 19);
    if (secondsText.size >= 64) secondsText.clear();
    secondsText.set(whole, text);
  }
  return text;
}
