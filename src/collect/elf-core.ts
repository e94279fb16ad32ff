/**
 * An ELF64 core file laid out from /proc/<pid>/maps before any memory is read: the header, the
 * program headers, the notes (NT_PRPSINFO, NT_FILE) and every PT_LOAD's file offset are known up
 * front, so the core streams out in one pass and a read that fails later is zero-filled in place
 * without moving anything. Pure: no I/O here (collect:memory does the reading).
 */

export const PAGE = 4096;
const EHDR = 64;
const PHDR = 56;
const PT_LOAD = 1;
const PT_NOTE = 4;
const NT_PRPSINFO = 3;
const NT_FILE = 0x46494c45;
/** e_phnum is 16 bits; PN_XNUM (0xffff) would need a section header: cap below it. */
export const MAX_LOADS = 0xfffe - 1;

/** One line of /proc/<pid>/maps. */
export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  offset: bigint;
  dev: string;
  inode: number;
  path: string;
}

const MAPS_LINE =
  /^([0-9a-f]+)-([0-9a-f]+) ([-rwxsp]{4}) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+) *(.*)$/;

/** Parses /proc/<pid>/maps; lines that do not parse are returned as `bad` (recorded, not dropped). */
export function parseMaps(text: string): { maps: Mapping[]; bad: string[] } {
  const maps: Mapping[] = [];
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = MAPS_LINE.exec(line);
    if (!m) {
      bad.push(line);
      continue;
    }
    maps.push({
      start: BigInt(`0x${m[1]}`),
      end: BigInt(`0x${m[2]}`),
      perms: m[3],
      offset: BigInt(`0x${m[4]}`),
      dev: m[5],
      inode: Number(m[6]),
      path: m[7],
    });
  }
  return { maps, bad };
}

/** The kernel's vvar pages ([vvar], [vvar_vclock] on newer kernels): /proc/<pid>/mem refuses them (EIO). */
export const isVvar = (m: Mapping): boolean => m.path.startsWith('[vvar');

/** One PT_LOAD: a readable mapping and how many of its bytes the core carries. */
export interface LoadPlan {
  mapping: Mapping;
  /** Offset of its bytes in the core file. */
  fileOffset: number;
  /** Bytes of the mapping in the core (0..size): less when the budget clipped it. */
  fileBytes: number;
}

export interface CorePlan {
  /** Header, program headers and notes: written first. */
  head: Buffer;
  loads: LoadPlan[];
  /** Total size of the core file. */
  size: number;
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  uid: number;
  gid: number;
  state: string;
  comm: string;
  args: string;
}

function note(type: number, desc: Buffer): Buffer {
  const name = Buffer.from('CORE\0\0\0\0'); // "CORE\0" padded to 4 bytes
  const h = Buffer.alloc(12);
  h.writeUInt32LE(5, 0);
  h.writeUInt32LE(desc.length, 4);
  h.writeUInt32LE(type, 8);
  const pad = Buffer.alloc((4 - (desc.length % 4)) % 4);
  return Buffer.concat([h, name, desc, pad]);
}

/** struct elf_prpsinfo as the x86_64/aarch64 kernels write it (136 bytes). */
function prpsinfo(p: ProcInfo): Buffer {
  const b = Buffer.alloc(136);
  const st = p.state[0] ?? '?';
  b.writeInt8('RSDTZW'.indexOf(st) >= 0 ? 'RSDTZW'.indexOf(st) : 0, 0);
  b.write(st, 1, 'latin1');
  b.writeInt8(st === 'Z' ? 1 : 0, 2);
  b.writeUInt32LE(p.uid >>> 0, 16);
  b.writeUInt32LE(p.gid >>> 0, 20);
  b.writeInt32LE(p.pid, 24);
  b.writeInt32LE(p.ppid, 28);
  Buffer.from(p.comm, 'utf8').subarray(0, 15).copy(b, 40);
  Buffer.from(p.args, 'utf8').subarray(0, 79).copy(b, 56);
  return b;
}

/** NT_FILE: count, page size, (start, end, offset in pages) per file mapping, then the names. */
function ntFile(maps: readonly Mapping[]): Buffer {
  const files = maps.filter((m) => m.inode !== 0 && m.path.startsWith('/'));
  const head = Buffer.alloc(16 + files.length * 24);
  head.writeBigUInt64LE(BigInt(files.length), 0);
  head.writeBigUInt64LE(BigInt(PAGE), 8);
  files.forEach((m, i) => {
    head.writeBigUInt64LE(m.start, 16 + i * 24);
    head.writeBigUInt64LE(m.end, 24 + i * 24);
    head.writeBigUInt64LE(m.offset / BigInt(PAGE), 32 + i * 24);
  });
  return Buffer.concat([head, ...files.map((m) => Buffer.from(`${m.path}\0`, 'utf8'))]);
}

const flagsOf = (perms: string): number =>
  (perms[0] === 'r' ? 4 : 0) | (perms[1] === 'w' ? 2 : 0) | (perms[2] === 'x' ? 1 : 0);

export function elfMachine(arch = process.arch): number {
  return arch === 'arm64' ? 183 : 62; // EM_AARCH64 : EM_X86_64
}

/**
 * Lays out the core: `allot(mapping)` says how many bytes of each load mapping go in (the budget);
 * the mapping's full size stays its p_memsz, so a clipped segment is visible as filesz < memsz.
 */
export function planCore(
  info: ProcInfo,
  loads: readonly Mapping[],
  allMaps: readonly Mapping[],
  allot: (m: Mapping) => number,
): CorePlan {
  const notes = Buffer.concat([note(NT_PRPSINFO, prpsinfo(info)), note(NT_FILE, ntFile(allMaps))]);
  const phnum = 1 + loads.length;
  const notesOffset = EHDR + phnum * PHDR;
  let offset = Math.ceil((notesOffset + notes.length) / PAGE) * PAGE;
  const plans: LoadPlan[] = loads.map((mapping) => {
    const fileBytes = allot(mapping);
    const p = { mapping, fileOffset: offset, fileBytes };
    offset += Math.ceil(fileBytes / PAGE) * PAGE;
    return p;
  });
  const head = Buffer.alloc(notesOffset);
  head.write('\x7fELF', 0, 'latin1');
  head[4] = 2; // ELFCLASS64
  head[5] = 1; // little endian
  head[6] = 1; // EV_CURRENT
  head.writeUInt16LE(4, 16); // ET_CORE
  head.writeUInt16LE(elfMachine(), 18);
  head.writeUInt32LE(1, 20);
  head.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  head.writeUInt16LE(EHDR, 52);
  head.writeUInt16LE(PHDR, 54);
  head.writeUInt16LE(phnum, 56);
  head.writeUInt16LE(64, 58); // e_shentsize (no sections)
  const ph = (i: number): number => EHDR + i * PHDR;
  head.writeUInt32LE(PT_NOTE, ph(0));
  head.writeBigUInt64LE(BigInt(notesOffset), ph(0) + 8);
  head.writeBigUInt64LE(BigInt(notes.length), ph(0) + 32);
  head.writeBigUInt64LE(BigInt(notes.length), ph(0) + 40);
  head.writeBigUInt64LE(4n, ph(0) + 48);
  plans.forEach((p, i) => {
    const o = ph(i + 1);
    head.writeUInt32LE(PT_LOAD, o);
    head.writeUInt32LE(flagsOf(p.mapping.perms), o + 4);
    head.writeBigUInt64LE(BigInt(p.fileOffset), o + 8);
    head.writeBigUInt64LE(p.mapping.start, o + 16); // p_vaddr
    head.writeBigUInt64LE(BigInt(p.fileBytes), o + 32);
    head.writeBigUInt64LE(p.mapping.end - p.mapping.start, o + 40);
    head.writeBigUInt64LE(BigInt(PAGE), o + 48);
  });
  const last = plans[plans.length - 1];
  const size = last ? last.fileOffset + last.fileBytes : notesOffset + notes.length;
  return { head: Buffer.concat([head, notes]), loads: plans, size };
}
