import type { ActionContext } from '../runner/action.js';
import { InterruptedError, TargetGoneError } from '../errors.js';
import { RuntimeError, runtimeMessage } from '../runtime/errors.js';
import { planFetch, requestEntryMapper, type Change } from './changes.js';
import { goneOr } from '../runtime/target-gone.js';
import type { ContainerRoot } from '../host/proc-root.js';
import type { RequestRecord } from '../evidence/diff-writer.js';
import { GatedTee, type MemberPolicy } from '../evidence/gated-tee.js';
import { DiskWriteError } from '../evidence/write-errors.js';
import { humanBytes } from '../util/format.js';
import { nameFields } from '../util/names.js';
import { safeText } from '../util/sanitize.js';
import { exactPaths, isDirectory } from './fs-diff.js';
import { groupRequests, inRequest, pathKey, type PlannedRequest } from './fs-groups.js';

/** The byte budgets of one fs-diff (docs/limits.md). */
export interface FsBudgets {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxContextBytes: number;
}

export interface FetchOutcome {
  requests: RequestRecord[];
  bytes: number;
  entries: number;
  evidence: number;
  context: number;
  clipped: number;
  /** Paths from /changes whose content is not (wholly) in the case. */
  gaps: string[];
}

interface Queued extends PlannedRequest {
  exact: Buffer;
  retryOf?: number;
}

const SAMPLE = 5;

/** `a, b, c (and 12 more)`: a gap list short enough for case.json; the full list is in fs/diff-requests.json. */
function sample(paths: readonly string[]): string {
  const head = paths.slice(0, SAMPLE).join(', ');
  return paths.length > SAMPLE
    ? `${head} (and ${paths.length - SAMPLE} more; see fs/diff-requests.json)`
    : head;
}

/**
 * Fetches the diff's content into fs/diff.tar (bytes as the engine sent them, responses concatenated)
 * with fs/diff-index.jsonl and fs/diff-requests.json. Requests grow with the number of directories:
 * a parent with many changed children is fetched once (see groupRequests). Every member is checked
 * against the budgets before its data is read; a response is stopped at a member boundary when one is
 * exceeded, and the changed paths it did not deliver are fetched again on a finer plan. A container
 * removed meanwhile raises TargetGoneError, with what was not collected listed in the case.
 */
export async function fetchDiff(
  ctx: ActionContext,
  changes: readonly Change[],
  initial: PlannedRequest[],
  root: ContainerRoot | null,
  budgets: FsBudgets,
  onMetadataOnlyDir: () => void,
): Promise<FetchOutcome> {
  const base = ctx.runtime.archiveSource(ctx.target);
  const listed = new Map<string, 'A' | 'C'>();
  for (const c of changes)
    if (c.Kind === 0 || c.Kind === 1) listed.set(pathKey(c.Path), c.Kind === 1 ? 'A' : 'C');
  const tar = await ctx.artifact('fs/diff.tar', {
    mediaType: 'application/x-tar',
    source: `${base}?path=… (one request per changed path or per directory with many changed children, responses concatenated: read with tar --ignore-zeros)`,
  });
  const index = await ctx.artifact('fs/diff-index.jsonl', {
    mediaType: 'application/x-ndjson',
    source: 'tar headers of fs/diff.tar, content hashed in flight',
    progress: false,
  });
  const tee = new GatedTee(tar.stream, index.stream, ctx.signal);
  const out: FetchOutcome = {
    requests: [],
    bytes: 0,
    entries: 0,
    evidence: 0,
    context: 0,
    clipped: 0,
    gaps: [],
  };
  const seen = new Set<string>();
  const attempted = new Set<string>();
  const excluded = new Set<string>();
  let clippedBytes = 0;
  let clipFiles = 0;
  let exhausted = false;
  const skipped: string[] = [];
  const queue: Queued[] = [];
  const enqueue = async (plan: PlannedRequest[], retryOf?: number): Promise<void> => {
    for (const r of plan) {
      if (attempted.has(r.path)) continue;
      for (const exact of exactPaths(r.path, root)) {
        if (r.leaf && r.kind === 'path') {
          const dir = await isDirectory(ctx, exact);
          if (dir === true) {
            onMetadataOnlyDir();
            continue;
          }
        }
        queue.push({ ...r, exact, retryOf });
      }
      attempted.add(r.path);
    }
    queue.sort((a, b) => Buffer.compare(a.exact, b.exact));
  };
  const record = (q: Queued, status: RequestRecord['status']): RequestRecord => {
    const name = nameFields(q.exact);
    const rec: RequestRecord = {
      n: out.requests.length + 1,
      path: name.text,
      ...(name.b64 ? { pathB64: name.b64 } : {}),
      kind: q.kind,
      ...(q.retryOf ? { retryOf: q.retryOf } : {}),
      offset: tee.bytes,
      bytes: 0,
      entries: 0,
      status,
    };
    out.requests.push(rec);
    return rec;
  };
  // Changed paths under a request that it did not deliver (for a retry, or for the gap list).
  const undelivered = (q: Queued, stopped?: string): Change[] =>
    changes.filter(
      (c) =>
        (c.Kind === 0 || c.Kind === 1) &&
        inRequest(c.Path, q.path) &&
        !seen.has(pathKey(c.Path)) &&
        pathKey(c.Path) !== stopped,
    );
  let failure: Error | undefined;
  try {
    await enqueue(initial);
    let done = 0;
    for (let q = queue.shift(); q; q = queue.shift()) {
      if (ctx.signal.aborted)
        throw new InterruptedError(
          `interrupted after ${done} archive requests (${queue.length + 1} left)`,
        );
      done++;
      if (exhausted) {
        const rec = record(q, 'skipped');
        rec.error = `maxTotalBytes (${humanBytes(budgets.maxTotalBytes)}) reached`;
        skipped.push(...undelivered(q).map((c) => c.Path));
        continue;
      }
      const rec = record(q, 'ok');
      const name = rec.path;
      let res;
      try {
        res = await ctx.runtime.archive(ctx.target, q.exact, ctx.signal);
      } catch (err) {
        const status = err instanceof RuntimeError ? err.status : undefined;
        if (status === undefined) throw err;
        const gone = await goneOr(err, ctx.runtime, ctx.target);
        if (gone instanceof TargetGoneError) {
          rec.status = 'not-collected';
          rec.error = runtimeMessage(err).trim();
          throw gone;
        }
        // A name /changes printed with U+FFFD (not UTF-8) cannot be asked for unless /proc gave us its bytes.
        const lossy = status === 404 && name.includes('\ufffd') && !rec.pathB64;
        rec.status = status === 404 && !lossy ? 'missing' : 'failed';
        rec.error = runtimeMessage(err).trim();
        const why = lossy
          ? 'its name is not UTF-8 and the engine printed it lossily, so it cannot be asked for'
          : status === 404
            ? 'it is gone since /changes listed it'
            : `the engine refused it (HTTP ${status})`;
        ctx.warn(
          `${safeText(name)}: ${why} (${safeText(rec.error)}); its content is not in fs/diff.tar`,
        );
        if (rec.status === 'failed')
          await ctx.case.noteGap(`content of ${name} not collected: ${why}`);
        continue;
      }
      let contextSoFar = 0;
      const policy: MemberPolicy = {
        decide(path, start, tarBytes) {
          const text = pathKey(path.toString('utf8'));
          const change = listed.get(text);
          const role = change ? 'evidence' : 'context';
          const entryBytes = start.endOffset - start.entry.offset;
          const left = budgets.maxTotalBytes - tarBytes - clippedBytes;
          if (role === 'context') {
            if (entryBytes > budgets.maxContextBytes - contextSoFar)
              return { keep: false, role, reason: 'context-budget', take: 0 };
            if (entryBytes > left) return { keep: false, role, reason: 'total-budget', take: 0 };
            contextSoFar += entryBytes;
            return { keep: true, role };
          }
          if (start.entry.size > budgets.maxFileBytes)
            return {
              keep: false,
              role,
              change,
              reason: 'file-budget',
              take: Math.max(0, Math.min(budgets.maxFileBytes, left)),
            };
          if (entryBytes > left)
            return { keep: false, role, change, reason: 'total-budget', take: Math.max(0, left) };
          return { keep: true, role, change };
        },
      };
      let r;
      try {
        r = await tee.add(
          rec.n,
          res,
          requestEntryMapper(q.exact),
          policy,
          async () => {
            const p = `fs/clipped/${++clipFiles}.bin`;
            const h = await ctx.artifact(p, {
              mediaType: 'application/octet-stream',
              source: `the first bytes of a member of ${base}?path=${name} (request ${rec.n}) over a byte budget`,
            });
            return { path: p, stream: h.stream, done: h.done };
          },
          (why) =>
            ctx.warn(`fs/diff.tar request ${rec.n} (${safeText(name)}): cannot index: ${why}`),
        );
      } catch (err) {
        // Let go of the response first: the engine holds the container while it streams an archive,
        // so an unread one would stall every later request about it (inspect included).
        res.destroy();
        Object.assign(rec, {
          status: 'failed',
          error: (err as Error).message,
          bytes: tee.bytes - rec.offset,
        });
        // Our disk failing is not the archive breaking off: its error names the file, the errno and what to do.
        if (err instanceof DiskWriteError) throw err;
        const gone = ctx.signal.aborted ? err : await goneOr(err, ctx.runtime, ctx.target);
        if (gone instanceof TargetGoneError) {
          rec.status = 'not-collected';
          throw gone;
        }
        throw new Error(
          `archive of ${safeText(name)} in container ${safeText(ctx.target.name)} broke off after ${rec.bytes} bytes: ${(err as Error).message}`,
          { cause: err },
        );
      }
      for (const p of r.seen) seen.add(pathKey(p.toString('utf8')));
      Object.assign(rec, {
        bytes: r.bytes,
        entries: r.entries,
        evidence: r.evidence,
        context: r.context,
        contextBytes: r.contextBytes,
      });
      out.entries += r.entries;
      out.evidence += r.evidence;
      out.context += r.context;
      if (r.stop) {
        const member = nameFields(r.stop.path);
        rec.status = 'cut';
        rec.stop = {
          reason: r.stop.reason,
          member: member.text,
          ...(member.b64 ? { memberB64: member.b64 } : {}),
          role: r.stop.role,
          size: r.stop.size,
          endMarkerOffset: r.stop.endMarkerOffset,
          ...(r.stop.prefix ? { prefix: r.stop.prefix } : {}),
        };
        const stoppedKey = r.stop.role === 'evidence' ? pathKey(member.text) : undefined;
        if (r.stop.prefix) {
          out.clipped++;
          clippedBytes += r.stop.prefix.bytes;
          seen.add(stoppedKey!);
          const budget =
            r.stop.reason === 'file-budget'
              ? `maxFileBytes ${humanBytes(budgets.maxFileBytes)}`
              : `maxTotalBytes ${humanBytes(budgets.maxTotalBytes)}`;
          const taken = `${humanBytes(r.stop.prefix.bytes)} prefix${r.stop.prefix.artifact ? ` in ${r.stop.prefix.artifact}` : ''}`;
          ctx.warn(
            `${safeText(member.text)} is ${humanBytes(r.stop.size)}, over ${budget}: only a ${taken} is kept`,
          );
          await ctx.case.noteGap(
            `content of ${member.text} clipped: ${humanBytes(r.stop.size)} (${r.stop.size} bytes), over ${budget}; kept a ${taken} (sha256 ${r.stop.prefix.sha256})`,
          );
          out.gaps.push(member.text);
        }
        if (r.stop.reason === 'total-budget') exhausted = true;
        if (q.kind === 'directory') excluded.add(q.path);
        const rest = undelivered(q, stoppedKey);
        if (exhausted) {
          skipped.push(...rest.map((c) => c.Path));
        } else if (rest.length) {
          const again = planFetch(rest);
          ctx.progress({
            message: `request ${rec.n} (${safeText(name)}) cut (${r.stop.reason}): ${rest.length} changed path(s) fetched again`,
          });
          await enqueue(groupRequests(again.added, again.changedLeaves, { excluded }), rec.n);
        }
      } else if (rec.entries === 0) {
        rec.status = 'empty';
        const why = rec.pathB64
          ? 'the engine cannot archive a path whose name is not UTF-8'
          : 'the engine sent an empty archive';
        ctx.warn(
          `${safeText(name)}: ${why}; its content is not in fs/diff.tar (its times are in fs/stat.jsonl when collected on the engine host)`,
        );
        await ctx.case.noteGap(`content of ${name} not collected: ${why}`);
      }
    }
    if (skipped.length) {
      out.gaps.push(...skipped);
      await ctx.case.noteGap(
        `maxTotalBytes (${humanBytes(budgets.maxTotalBytes)}) reached: content of ${skipped.length} changed path(s) not collected: ${sample(skipped)}`,
      );
    }
  } catch (err) {
    failure = err as Error;
    if (err instanceof TargetGoneError) {
      // Everything not yet delivered is a gap: the engine can no longer give it, nor was it deleted.
      for (const q of queue) record(q, 'not-collected').error = 'the container was removed';
      const left = changes
        .filter((c) => (c.Kind === 0 || c.Kind === 1) && !seen.has(pathKey(c.Path)))
        .map((c) => c.Path)
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      out.gaps.push(...left);
      await ctx.case
        .noteGap(
          `container ${ctx.target.name} was removed during collect:fs-diff: content of ${left.length} changed path(s) not collected: ${sample(left)}`,
        )
        .catch(() => undefined);
    }
    throw err;
  } finally {
    tar.stream.end();
    index.stream.end();
    await tar.done(failure);
    await index.done(failure);
    // Also when a response broke off: the record says which, and how far it got.
    await ctx.writeJson(
      'fs/diff-requests.json',
      out.requests,
      `${base} (one record per request; offset/bytes locate it in fs/diff.tar)`,
    );
  }
  out.bytes = tee.bytes;
  return out;
}
