import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TarIndexer } from './tar-index.js';
import { safeText } from '../util/sanitize.js';

/**
 * Debian's `yara` (4.x) run as a child process: the rules are the user's, the engine is real, and no
 * content is ever copied out of the case folder — yara reads the artifacts where they are.
 */
export const YARA_BIN = 'yara';
/** Rule files found in a folder: these extensions, at most this many, this deep. */
const RULE_EXT = /\.(yar|yara)$/i;
const MAX_RULE_FILES = 1000;
const MAX_DEPTH = 8;
/** yara's stdout for one artifact is read up to this; past it the scan is reported cut. */
export const MAX_YARA_OUTPUT = 16 * 1024 * 1024;

/** The rule files a `rules` param names (files as given, folders walked for *.yar / *.yara), sorted. */
export function ruleFiles(entries: readonly string[]): { files: string[]; problems: string[] } {
  const files: string[] = [];
  const problems: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > MAX_DEPTH) return;
    for (const e of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && RULE_EXT.test(e.name)) files.push(p);
      if (files.length > MAX_RULE_FILES) return;
    }
  };
  for (const raw of entries) {
    const abs = path.resolve(raw);
    let st: fs.Stats;
    try {
      st = fs.statSync(abs);
    } catch (err) {
      problems.push(`${raw}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    if (st.isDirectory()) {
      const before = files.length;
      walk(abs, 0);
      if (files.length === before) problems.push(`${raw}: no *.yar or *.yara file in this folder`);
    } else files.push(abs);
  }
  if (files.length > MAX_RULE_FILES)
    problems.push(`more than ${MAX_RULE_FILES} rule files; name fewer`);
  return { files, problems };
}

/**
 * Compiles the rules by scanning an empty input (/dev/null): yara compiles before it scans, so a bad
 * rule is reported as `file(line): message` and nothing else is done. Synchronous on purpose: it runs
 * while the playbook is validated, before anything touches the engine.
 */
export function compileRules(files: readonly string[]): string[] {
  const r = spawnSync(YARA_BIN, ['-w', ...files, '/dev/null'], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 1024 * 1024,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return [
      code === 'ENOENT'
        ? 'the yara program is not installed (Debian: apt-get install yara)'
        : `yara could not run: ${r.error.message}`,
    ];
  }
  if (r.status === 0) return [];
  const lines = `${r.stderr}`
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(0, 20);
  return lines.length ? lines.map((l) => safeText(l)) : [`yara exited with ${r.status}`];
}

/** One string match yara printed: rule, string identifier, offset in the scanned file, length. */
export interface RawMatch {
  rule: string;
  string: string | null;
  offset: number | null;
  length: number | null;
}

export interface ScanResult {
  matches: RawMatch[];
  /** Set when the scan did not finish its job (timeout, output budget, yara error). */
  problem: string | null;
}

const RULE_LINE = /^([A-Za-z_][A-Za-z0-9_]*(?::[A-Za-z_][A-Za-z0-9_]*)?) /;
const STRING_LINE = /^0x([0-9a-fA-F]+):(\d+):(\$[A-Za-z0-9_]*):/;

/**
 * Scans one file with `yara -s -L` and parses what it prints: `rule file` lines, then one
 * `0x<offset>:<length>:$id: <data>` line per string match. The matched data (container bytes) is
 * never kept; only the offset, length and identifiers are.
 */
export async function scanFile(
  rules: readonly string[],
  file: string,
  o: { timeoutSeconds: number; signal?: AbortSignal },
): Promise<ScanResult> {
  const child = spawn(
    YARA_BIN,
    ['-w', '-s', '-L', '-a', String(o.timeoutSeconds), ...rules, file],
    { stdio: ['ignore', 'pipe', 'pipe'], signal: o.signal },
  );
  const matches: RawMatch[] = [];
  let problem: string | null = null;
  let bytes = 0;
  let rest = '';
  let current: string | null = null;
  let stderr = '';
  const onLine = (line: string): void => {
    const s = STRING_LINE.exec(line);
    if (s && current) {
      matches.push({
        rule: current,
        string: s[3],
        offset: parseInt(s[1], 16),
        length: Number(s[2]),
      });
      return;
    }
    // A rule line ends with the path we gave; anything else (a data line yara wrapped) is ignored.
    if (line.endsWith(` ${file}`)) {
      const r = RULE_LINE.exec(line);
      if (r) {
        current = r[1];
        matches.push({ rule: current, string: null, offset: null, length: null });
      }
    }
  };
  child.stdout.setEncoding('latin1');
  child.stdout.on('data', (chunk: string) => {
    bytes += chunk.length;
    if (bytes > MAX_YARA_OUTPUT) {
      problem ??= `yara printed more than ${MAX_YARA_OUTPUT} bytes of matches; the rest was not read`;
      child.kill('SIGKILL');
      return;
    }
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    if (stderr.length < 4096) stderr += c;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  if (rest) onLine(rest);
  if (!problem && code !== 0)
    problem = `yara exited with ${code}: ${safeText(stderr.trim().slice(0, 500)) || 'no message'}`;
  else if (!problem && /timeout|timed out/i.test(stderr))
    problem = `yara: ${safeText(stderr.trim().slice(0, 500))}`;
  // Only the rule lines: per-match lines hold the real hits.
  return { matches: dedupeRuleOnly(matches), problem };
}

/** A rule with string matches is represented by them; a rule line alone stays (condition-only rules). */
function dedupeRuleOnly(list: RawMatch[]): RawMatch[] {
  const withStrings = new Set(list.filter((m) => m.string !== null).map((m) => m.rule));
  return list.filter((m) => m.string !== null || !withStrings.has(m.rule));
}

/** Where a tar member sits in its archive: header bytes, then content. */
export interface MemberRange {
  name: string;
  headerOffset: number;
  dataOffset: number;
  size: number;
  endOffset: number;
}

/** Indexes a tar artifact's members (names and byte ranges) by streaming it once; nothing is extracted. */
export async function tarMembers(
  file: string,
): Promise<{ members: MemberRange[]; problem: string | null }> {
  const members: MemberRange[] = [];
  const ix = new TarIndexer(
    () => undefined,
    (s) => {
      members.push({
        name: s.entry.name.toString('utf8'),
        headerOffset: s.entry.offset,
        dataOffset: s.dataOffset,
        size: s.entry.size,
        endOffset: s.endOffset,
      });
      return true;
    },
  );
  for await (const chunk of fs.createReadStream(file)) ix.write(chunk as Buffer);
  return { members, problem: ix.end() };
}

/** The member a tar offset falls in (binary search over the sorted ranges), and where in it. */
export function memberAt(
  members: readonly MemberRange[],
  offset: number,
): { member: MemberRange; inHeader: boolean; memberOffset: number } | null {
  let lo = 0;
  let hi = members.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = members[mid];
    if (offset < m.headerOffset) hi = mid - 1;
    else if (offset >= m.endOffset) lo = mid + 1;
    else {
      const inHeader = offset < m.dataOffset;
      return { member: m, inHeader, memberOffset: inHeader ? 0 : offset - m.dataOffset };
    }
  }
  return null;
}
