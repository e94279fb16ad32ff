import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors.js';
import { loadPublicKeyFile } from '../evidence/sign.js';
import { containerIds, queryJournal, type JournalLine } from '../journal/query.js';
import { listSegments } from '../journal/segments.js';
import { verifyJournal, type JournalVerifyReport } from '../journal/verify.js';
import { ENGINE_TIME, toEngineTime } from '../util/times.js';
import { safeText } from '../util/sanitize.js';

/** The journal folder of a command: the argument, else CIRT_JOURNAL; it must hold segments. */
export function journalDir(o: { dir?: string; cwd: string; env: NodeJS.ProcessEnv }): string {
  const given = o.dir ?? o.env.CIRT_JOURNAL;
  if (!given)
    throw new UserError('No journal folder given', {
      hint: 'Pass the journal folder (the recorder\u2019s `dir`) as an argument, or set CIRT_JOURNAL.',
    });
  const dir = path.resolve(o.cwd, given);
  let isDir = false;
  try {
    isDir = fs.statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir)
    throw new UserError(`The journal folder ${safeText(given)} does not exist`, {
      hint: 'Check the path: it is the folder the recorder writes (NNNNNN.jsonl segments).',
    });
  return dir;
}

/** Checks a journal offline (see journal/verify.ts); an unreadable key is a usage error. */
export function verifyJournalDir(o: {
  dir: string;
  pubkey?: string;
  cwd: string;
}): JournalVerifyReport {
  const pubkey = o.pubkey ? loadPublicKeyFile(path.resolve(o.cwd, o.pubkey)) : undefined;
  return verifyJournal(o.dir, { pubkey });
}

/** `--since` / `--until` as ms: Unix seconds, RFC 3339, or a duration back from now (`15m`). */
export function parseTimeBound(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!ENGINE_TIME.test(value))
    throw new UserError(`${flag} "${safeText(value)}" is not a time`, {
      hint: 'Use Unix seconds, RFC 3339 (2026-05-01T10:00:00Z) or a duration back from now (90s, 15m, 2h, 7d).',
    });
  return Number(toEngineTime(value)) * 1000;
}

/** The records a `cirt journal query` selects; a container that the journal never saw is a usage error. */
export function* queryJournalDir(o: {
  dir: string;
  container?: string;
  since?: string;
  until?: string;
}): Generator<JournalLine> {
  const sinceMs = parseTimeBound(o.since, '--since');
  const untilMs = parseTimeBound(o.until, '--until');
  if (!listSegments(o.dir).length)
    throw new UserError(`${safeText(o.dir)} holds no journal segments`, {
      hint: 'Point at the folder the recorder writes.',
    });
  let ids: Set<string> | undefined;
  if (o.container !== undefined) {
    ids = containerIds(o.dir, o.container);
    if (!ids.size)
      throw new UserError(`The journal has no record of a container "${safeText(o.container)}"`, {
        hint: 'Give its id, an id prefix or its name as the engine reported it.',
      });
  }
  yield* queryJournal(o.dir, { ids, sinceMs, untilMs });
}

/** `--journal DIR` is checked before anything touches the engine: a folder holding segments. */
export function requireJournal(dir: string): void {
  const isDir = (() => {
    try {
      return fs.statSync(dir).isDirectory();
    } catch {
      return false;
    }
  })();
  if (!isDir || !listSegments(dir).length)
    throw new UserError(`--journal ${safeText(dir)} is not a flight recorder journal`, {
      hint: 'Pass the folder the recorder writes (it holds NNNNNN.jsonl segments), or leave --journal out.',
    });
}
