import { PassThrough } from 'node:stream';
import type { ActionContext } from '../runner/action.js';
import { FailureError } from '../errors.js';
import { addOwner, type SocketOwnerMap } from '../host/proc.js';
import type { HelperResult } from '../runtime/types.js';
import { SectionSplitter, type SectionSink } from './sections.js';
import { safeText } from '../util/sanitize.js';
import { writeChunk } from '../util/streams.js';
import { NET_FILES, type NetFile, type NetSnapshot } from './net-snapshot.js';
import { BoundedBuffer } from '../util/streams.js';

/**
 * What the helper runs (POSIX sh; busybox is enough). Every output is length-framed (see
 * sections.ts). In the helper, pid 1 is the target's init, and /proc/1/net shows the target's
 * network namespace. Process names come first, then socket ownership, then the net tables,
 * so owners are known before the socket tables are decoded.
 */
const NET_HELPER_SCRIPT = [
  'set -u',
  'T=/cirt',
  'out() {',
  '  if cat "$2" > "$T/o" 2>/dev/null; then',
  '    set -- "$1" $(wc -c < "$T/o")',
  '    printf \'%s %s\\n\' "$1" "$2"',
  '    cat "$T/o"',
  '  else',
  '    printf \'%s -1\\n\' "$1"',
  '  fi',
  '}',
  'me=$$',
  'for p in /proc/[0-9]*; do',
  '  n=${p#/proc/}',
  '  [ "$n" = "$me" ] && continue',
  '  out "comm.$n" "$p/comm"',
  'done',
  ': > "$T/owners"',
  'for p in /proc/[0-9]*; do',
  '  n=${p#/proc/}',
  '  [ "$n" = "$me" ] && continue',
  '  for f in "$p"/fd/*; do',
  '    t=$(readlink "$f" 2>/dev/null) || continue',
  '    case "$t" in "socket:["*"]") i=${t#"socket:["}; echo "$n ${i%"]"}" >> "$T/owners" ;; esac',
  '  done',
  'done',
  'out owners "$T/owners"',
  `for f in ${NET_FILES.join(' ')}; do out "net.$f" "/proc/1/net/$f"; done`,
  '',
].join('\n');

const LABEL = /^(owners|comm\.\d{1,10}|net\.[a-z0-9_]{1,20})$/;
const MAX_OWNERS_BYTES = 16 * 1024 * 1024;

/** Collects into memory, up to `max` bytes (for the small owner/comm sections). */
function collector(max: number, done: (text: string, cut: boolean) => void): SectionSink {
  const kept = new BoundedBuffer(max);
  return {
    write: async (chunk) => kept.add(chunk),
    end: async () => done(kept.text(), kept.cut),
  };
}

/**
 * Takes a network snapshot through a helper container joined to the target's network and pid
 * namespaces. Socket owner pids are then the container's own pids (its `nspid`), not host pids.
 */
export async function snapshotViaHelper(
  ctx: ActionContext,
  snap: NetSnapshot,
  image: string,
): Promise<HelperResult> {
  const comms = new Map<number, string>();
  let ownersSeen = false;
  const sourceOf = (file: string): string =>
    `helper container (image ${image}, in the namespaces of ${ctx.target.id.slice(0, 12)}): ${file}`;
  const splitter = new SectionSplitter(async (label, size) => {
    const dot = label.indexOf('.');
    const [kind, arg] = dot < 0 ? [label, ''] : [label.slice(0, dot), label.slice(dot + 1)];
    if (kind === 'comm') {
      return size < 0
        ? null
        : collector(64, (text) => comms.set(Number(arg), text.replace(/\n$/, '')));
    }
    if (kind === 'owners') {
      ownersSeen = true;
      if (size < 0) {
        ctx.warn('socket owners could not be listed in the helper');
        return null;
      }
      return collector(MAX_OWNERS_BYTES, (text, cut) => {
        if (cut) ctx.warn('socket owner list too long; owners of some sockets are missing');
        const owners: SocketOwnerMap = new Map();
        for (const line of text.split('\n')) {
          const m = /^(\d+) (\d+)$/.exec(line);
          if (m) addOwner(owners, Number(m[2]), Number(m[1]), comms.get(Number(m[1])) ?? '?');
        }
        snap.setOwners(owners);
      });
    }
    const file = arg as NetFile;
    if (!(NET_FILES as readonly string[]).includes(file)) return null;
    if (size < 0) {
      snap.skip(file, 'not readable in the helper');
      return null;
    }
    const pt = new PassThrough();
    const reading = snap.file(file, pt, sourceOf(`/proc/1/net/${file}`));
    // If decoding fails, stop the writer waiting on a stream nobody drains any more.
    reading.catch((err: Error) => pt.destroy(err));
    return {
      write: (chunk) => writeChunk(pt, chunk),
      end: async () => {
        pt.end();
        await reading;
      },
    };
  }, LABEL);

  const result = await ctx.runtime.runHelper({
    target: ctx.target,
    image,
    script: NET_HELPER_SCRIPT,
    stdout: splitter,
    labels: { 'cirt.case': ctx.case.id, 'cirt.step': ctx.stepId },
    signal: ctx.signal,
  });
  if (result.exitCode !== 0 || !ownersSeen) {
    throw new FailureError(
      `helper container ${result.name} (image ${safeText(image)}) for ${safeText(ctx.target.name)} exited ${result.exitCode}: ${safeText(result.stderr.trim().slice(0, 300)) || 'no output'}`,
      {
        hint: 'The helper image needs /bin/sh, cat, wc and readlink (busybox has them): pass `helperImage:` naming such a local image.',
      },
    );
  }
  return result;
}
