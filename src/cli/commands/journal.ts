import { journalDir, queryJournalDir, verifyJournalDir } from '../../app/journal.js';
import { EXIT } from '../../errors.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/** `cirt journal verify DIR [--pubkey PEM] [--json]`: exit 0 intact, 1 not (each problem named). */
export function journalVerifyCommand(
  o: { dir?: string; pubkey?: string; json?: boolean },
  io: CommandIO,
): number {
  const dir = journalDir({ dir: o.dir, cwd: io.cwd, env: io.env });
  const r = verifyJournalDir({ dir, pubkey: o.pubkey, cwd: io.cwd });
  const w = (s: string): void => println(io.out, s);
  if (o.json) {
    w(JSON.stringify({ dir, ...r }));
    return r.ok ? EXIT.ok : EXIT.failed;
  }
  w(`cirt journal verify ${safeText(dir)}`);
  w(
    `  ${r.segments} segment(s), ${r.sealed} sealed, ${r.records} records${r.first && r.last ? ` (seq ${r.first.seq}–${r.last.seq}, ${r.first.time} – ${r.last.time})` : ''}`,
  );
  if (r.dropped.length)
    w(`  • dropped by retention (recorded in the chain): ${r.dropped.join(', ')}`);
  for (const n of r.notes) w(`  • ${safeText(n)}`);
  if (r.ok) {
    w(
      'VALID: every record hashes, the chain is unbroken, every closed segment matches its signed SHA256SUMS.',
    );
    return EXIT.ok;
  }
  w(`INVALID: ${r.problems.length} problem(s):`);
  for (const p of r.problems)
    w(
      `  ✖ ${safeText(p.segment)}${p.line !== undefined ? ` line ${p.line}` : ''}${p.seq !== undefined ? ` (seq ${p.seq})` : ''}: ${safeText(p.message)}`,
    );
  return EXIT.failed;
}

/** `cirt journal query [DIR] [--container X] [--since T] [--until T]`: the records as stored, NDJSON. */
export function journalQueryCommand(
  o: { dir?: string; container?: string; since?: string; until?: string },
  io: CommandIO,
): number {
  const dir = journalDir({ dir: o.dir, cwd: io.cwd, env: io.env });
  for (const l of queryJournalDir({ dir, container: o.container, since: o.since, until: o.until }))
    io.out.write(`${l.text}\n`);
  return EXIT.ok;
}
