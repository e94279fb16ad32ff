/** Pure parsers for /proc/<pid>/{stat,status,cmdline} and /proc/stat (no file access here). */

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  /** Field 22: start time in clock ticks after boot. */
  startTicks: number;
}

/**
 * /proc/<pid>/stat. The comm field is in parentheses and may itself contain `)`, spaces or
 * newlines (it is process-controlled), so the fields after it are found from the LAST `)`.
 */
export function parseStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('malformed /proc stat: no (comm)');
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state); field n is rest[n - 3].
  const startTicks = Number(rest[22 - 3]);
  const ppid = Number(rest[4 - 3]);
  if (!Number.isFinite(startTicks) || !Number.isFinite(ppid))
    throw new Error('malformed /proc stat: missing fields');
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0],
    ppid,
    startTicks,
  };
}

export interface ProcStatus {
  name?: string;
  ppid?: number;
  /** Real, effective, saved, filesystem. */
  uids: number[];
  gids: number[];
  /** Pid in each nested namespace, outermost first; the last is the pid inside the container. */
  nspids: number[];
  fields: Record<string, string>;
}

/** /proc/<pid>/status: `Key:\tvalue` lines. */
export function parseStatus(text: string): ProcStatus {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  const nums = (v: string | undefined): number[] =>
    v ? v.split(/\s+/).filter(Boolean).map(Number) : [];
  return {
    name: fields.Name,
    ppid: fields.PPid !== undefined ? Number(fields.PPid) : undefined,
    uids: nums(fields.Uid),
    gids: nums(fields.Gid),
    nspids: nums(fields.NSpid),
    fields,
  };
}

/** /proc/<pid>/cmdline: NUL-separated arguments with a trailing NUL; empty for kernel threads and zombies. */
export function splitCmdline(raw: Buffer): string[] {
  if (raw.length === 0) return [];
  const body = raw[raw.length - 1] === 0 ? raw.subarray(0, raw.length - 1) : raw;
  const args: string[] = [];
  let start = 0;
  for (let i = 0; i <= body.length; i++) {
    if (i === body.length || body[i] === 0) {
      args.push(body.subarray(start, i).toString('utf8'));
      start = i + 1;
    }
  }
  return args;
}

/** `btime` (boot time, Unix seconds) from /proc/stat. */
export function parseBtime(procStat: string): number {
  const m = /^btime\s+(\d+)$/m.exec(procStat);
  if (!m) throw new Error('no btime line in /proc/stat');
  return Number(m[1]);
}

/** Absolute UTC start time of a process: boot time + start ticks / ticks per second. */
export function startTimeUtc(startTicks: number, btimeSeconds: number, clkTck: number): string {
  const ms = btimeSeconds * 1000 + Math.round((startTicks * 1000) / clkTck);
  return new Date(ms).toISOString();
}

/** `socket:[12345]` → 12345; anything else → undefined. */
export function socketInode(linkTarget: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(linkTarget);
  return m ? Number(m[1]) : undefined;
}
