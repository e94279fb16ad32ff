import fs from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { z } from 'zod';
import { hostView } from '../collect/live-target.js';
import { MountContent, type MountTotals } from '../collect/mount-content.js';
import { mountContentViaHelper, mountInfoViaHelper } from '../collect/mounts-helper.js';
import { planMounts, type MountRecord } from '../collect/mount-plan.js';
import { parseMountInfo, type MountInfo } from '../host/mountinfo.js';
import { ContainerRoot } from '../host/proc-root.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import { FailureError, InterruptedError } from '../errors.js';
import type { ManifestEntry } from '../evidence/types.js';
import { bytesParam } from '../util/bytes-param.js';
import { humanBytes } from '../util/format.js';
import { safeText } from '../util/sanitize.js';

/** mountinfo is kernel text, but a container with CAP_SYS_ADMIN can make thousands of mounts. */
const MAX_MOUNTINFO_BYTES = 4 * 1024 * 1024;
/** Gap lines per mount in case.json; the index has every entry. */
const MAX_CUT_LINES = 5;

const params = z.strictObject({
  maxFileBytes: bytesParam(
    '64MiB',
    'content taken of one file; a larger file keeps this prefix (marked truncated, its hash is of the prefix)',
  ),
  maxTotalBytes: bytesParam('1GiB', 'content taken by the whole step, all mounts together'),
  maxFiles: z
    .number()
    .int()
    .positive()
    .default(100_000)
    .describe('entries recorded by the whole step (files, directories, links, special files)'),
  maxDepth: z
    .number()
    .int()
    .positive()
    .default(64)
    .describe('directory depth walked below a mount point'),
  volumes: z
    .boolean()
    .default(false)
    .describe(
      'also collect named volumes (shared with other containers, often large); anonymous volumes are collected anyway',
    ),
  helperImage: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'an image reference')
    .optional()
    .describe(
      "remote engine: image of the helper container that reads the target's /proc/1/mountinfo and walks its /proc/1/root (needs /bin/sh, cat, stat, head, readlink, wc: busybox); default: the target's own image",
    ),
  helperTimeout: z
    .number()
    .int()
    .positive()
    .max(86_400)
    .default(600)
    .describe(
      'remote engine: seconds the content helper container may run; it is removed then and what it sent is kept (partly collected)',
    ),
  binds: z
    .boolean()
    .default(false)
    .describe(
      "also collect bind mounts of host paths (the host's files, not the container's); the engine's /etc/hosts, /etc/resolv.conf, /etc/hostname are collected anyway",
    ),
});
type Params = z.output<typeof params>;

/** Whether a mount's content is collected with these params, and why not. */
function decide(m: MountRecord, p: Params): { collect: boolean; why?: string } {
  switch (m.kind) {
    case 'rootfs':
      return {
        collect: false,
        why: "the container's own layer: collect:fs-diff collects what changed in it",
      };
    case 'kernel':
      return { collect: false, why: `kernel filesystem (${m.fsType}): no stored files to collect` };
    case 'masked':
      return {
        collect: false,
        why: 'masked by the engine (HostConfig.MaskedPaths): an empty tmpfs or /dev/null over a /proc or /sys path',
      };
    case 'named-volume':
      return p.volumes
        ? { collect: true }
        : { collect: false, why: 'named volume: listed only (pass `volumes: true` to collect it)' };
    case 'bind':
    case 'other':
      return p.binds
        ? { collect: true }
        : {
            collect: false,
            why: `${m.kind === 'bind' ? 'bind mount of a host path' : 'a mount the engine did not make'}: listed only (pass \`binds: true\` to collect it)`,
          };
    default:
      return { collect: true };
  }
}

/** Reads /proc/<pid>/mountinfo, bounded. */
async function readMountInfo(pid: number): Promise<{ text: string; cut: boolean }> {
  const fh = await fs.open(`/proc/${pid}/mountinfo`, 'r');
  try {
    const buf = Buffer.alloc(MAX_MOUNTINFO_BYTES + 1);
    let n = 0;
    for (;;) {
      const r = await fh.read(buf, n, buf.length - n, null);
      if (!r.bytesRead) break;
      n += r.bytesRead;
      if (n >= buf.length) break;
    }
    const cut = n > MAX_MOUNTINFO_BYTES;
    const text = buf.subarray(0, Math.min(n, MAX_MOUNTINFO_BYTES)).toString('utf8');
    // A cut last line is dropped rather than parsed half.
    return { text: cut ? text.slice(0, text.lastIndexOf('\n') + 1) : text, cut };
  } finally {
    await fh.close();
  }
}

/** Opens the container's root from the host, checking the pid still is the container's afterwards. */
async function openRoot(ctx: ActionContext, pid: number): Promise<ContainerRoot> {
  const root = ctx.host ? ctx.host.openRoot(pid) : ContainerRoot.open(pid);
  const again = await ctx.runtime.inspect(ctx.target).catch((err: unknown) => {
    root.close();
    throw err;
  });
  if (again.state.pid !== pid) {
    root.close();
    throw new Error(`${ctx.target.name} changed its process while being examined`);
  }
  return root;
}

/** inspect `Created` (RFC 3339 with nanoseconds) as ns since the epoch. */
function createdAt(text: string | undefined): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(text ?? '');
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  return Number.isNaN(ms)
    ? undefined
    : BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** A write the case store could not finish (disk full) fails the step: the evidence is not whole. */
function written(e: ManifestEntry): ManifestEntry {
  if (!e.complete)
    throw new FailureError(
      `writing ${e.path} into the case failed: ${e.error ?? 'unknown error'}`,
      {
        hint: 'Free space where the case folder is, then run the step again (what was written is kept, marked incomplete).',
      },
    );
  return e;
}

function describeCut(m: MountRecord, t: MountTotals): string | undefined {
  const parts: string[] = [];
  if (t.truncated) parts.push(`${t.truncated} file(s) cut to a prefix by the byte budget`);
  if (t.cut.length)
    parts.push(
      ...t.cut.slice(0, MAX_CUT_LINES),
      ...(t.cut.length > MAX_CUT_LINES ? [`${t.cut.length - MAX_CUT_LINES} more cut`] : []),
    );
  return parts.length ? `${parts.join('; ')} (see ${m.tar} and fs/mounts-index.jsonl)` : undefined;
}

export const collectMounts = defineAction({
  name: 'collect:mounts',
  description:
    "List every mount of the container (the host's /proc/<pid>/mountinfo joined with inspect Mounts) into fs/mounts.json, saying what was collected of each, and collect the content of tmpfs mounts (/dev/shm too), anonymous volumes and the engine's /etc/hosts, /etc/resolv.conf, /etc/hostname into fs/mounts/<n>.tar with fs/mounts-index.jsonl (stat times, sha256 hashed while written). Walks through /proc/<pid>/root without following any link; FIFOs, sockets and devices are recorded, never opened. Named volumes and bind mounts only with `volumes: true` / `binds: true`. On a remote engine both the list and the content come through helper containers joined to the target's pid namespace, reading /proc/1/root (same artifacts and bounds; stat times without birth time). Works on a paused container.",
  example:
    '- uses: collect:mounts\n  with:\n    maxFileBytes: 64MiB\n    maxTotalBytes: 1GiB\n    volumes: false',
  params,
  mutates: false,
  plan: (p, t) =>
    `list the mounts of ${t.name} into fs/mounts.json and collect tmpfs, anonymous volumes${p.volumes ? ', named volumes' : ''}${p.binds ? ', bind mounts' : ''} and the engine's /etc files into fs/mounts/ (at most ${humanBytes(p.maxFileBytes)} a file, ${humanBytes(p.maxTotalBytes)} in all)`,
  // The list needs only inspect; content needs the host's /proc (or the helper, on a remote engine).
  needs: ['inspect'],
  async check(ctx) {
    await ctx.facts();
  },
  async run(ctx, p) {
    const facts = await ctx.facts();
    const pid = facts.state.pid;
    let mountinfo: MountInfo[] | null = null;
    let noContent: string | undefined;
    let root: ContainerRoot | null = null;
    /** Remote engine: the helper that read mountinfo works, so content is walked through one too. */
    let viaHelper: string | undefined;

    const view = pid
      ? await hostView(ctx, pid)
      : ({
          ok: false,
          reason: `${ctx.target.name} is ${facts.state.status} (no processes, so no mount namespace to look into)`,
        } as const);
    if (view.ok) {
      let mi: { text: string; cut: boolean } | undefined;
      try {
        mi = await readMountInfo(pid);
        root = await openRoot(ctx, pid);
      } catch (err) {
        if (err instanceof InterruptedError) throw err;
        noContent = `/proc/${pid} could not be read (${(err as Error).message})`;
      }
      // Outside the try: a write that fails (disk full) fails the step, it is not a reason to skip content.
      if (mi) {
        try {
          written(
            await ctx.writeArtifact('fs/mountinfo.txt', mi.text, {
              mediaType: 'text/plain',
              source: `/proc/${pid}/mountinfo (read from the host)`,
            }),
          );
        } catch (err) {
          root?.close();
          throw err;
        }
        const parsed = parseMountInfo(mi.text);
        mountinfo = parsed.mounts;
        if (mi.cut)
          ctx.warn(
            `/proc/${pid}/mountinfo is over ${humanBytes(MAX_MOUNTINFO_BYTES)}: only the mounts in its first part are listed`,
          );
        if (parsed.bad.length)
          ctx.warn(
            `${parsed.bad.length} line(s) of /proc/${pid}/mountinfo not understood (kept in fs/mountinfo.txt)`,
          );
      }
    } else {
      noContent = view.reason;
      // The list still matters when the content is out of reach: the kernel's view through a helper container.
      if (pid && !ctx.runtime.info.local) {
        const image = p.helperImage ?? facts.imageId;
        let mi: Awaited<ReturnType<typeof mountInfoViaHelper>> | undefined;
        try {
          mi = await mountInfoViaHelper(ctx, image, MAX_MOUNTINFO_BYTES);
        } catch (err) {
          if (err instanceof InterruptedError) throw err;
          ctx.warn(
            `mountinfo not read through a helper container: ${safeText((err as Error).message)}`,
          );
        }
        if (mi) {
          written(
            await ctx.writeArtifact('fs/mountinfo.txt', mi.text, {
              mediaType: 'text/plain',
              source: `helper container ${mi.helper} (image ${image}, in the pid namespace of ${ctx.target.id.slice(0, 12)}): /proc/1/mountinfo`,
            }),
          );
          mountinfo = parseMountInfo(mi.text).mounts;
          viaHelper = image;
          if (mi.cut)
            ctx.warn(
              `mountinfo is over ${humanBytes(MAX_MOUNTINFO_BYTES)}: only the mounts in its first part are listed`,
            );
        }
      }
    }
    if (viaHelper) noContent = undefined;
    if (noContent) {
      ctx.warn(
        `mount content not collected: ${safeText(noContent)}; ${mountinfo ? 'mounts listed from mountinfo' : 'mounts listed from inspect only'}. Run cirt on the engine host to collect tmpfs and volume content.`,
      );
    }

    const mounts = planMounts(facts, mountinfo);
    // A volume's files born after the container was created are new (the engine copies the image's files in at creation).
    const createdNs = createdAt(facts.created);
    const wanted: MountRecord[] = [];
    // Listed only because the responder did not opt in (volumes/binds): a limitation, not a gap of this step.
    const optedOut = new Set<MountRecord>();
    for (const m of mounts) {
      const d = decide(m, p);
      if (!d.collect) {
        m.why = d.why;
        optedOut.add(m);
      } else if (!root && !viaHelper)
        m.why = `not collected: ${noContent}${ctx.runtime.info.local ? '' : ' (the helper container that would collect it could not read the mounts: see the warnings)'}`;
      else wanted.push(m);
    }

    let failure: Error | undefined;
    let content: { entries: number; taken: number } | undefined;
    let index: { path: string; stream: Writable; done(f?: Error): Promise<unknown> } | undefined;
    let indexEntry: ManifestEntry | undefined;
    try {
      if (!root && viaHelper && wanted.length) {
        const image = viaHelper;
        const helper = ctx.runtime.helperName(ctx.target);
        const via = `via helper container ${helper} (image ${image}, in the pid namespace of ${ctx.target.id.slice(0, 12)}) reading /proc/1/root`;
        index = await ctx.artifact('fs/mounts-index.jsonl', {
          mediaType: 'application/x-ndjson',
          source: `busybox stat ${via} (no link followed), one line per entry of fs/mounts/<n>.tar`,
          progress: false,
        });
        ctx.progress({ message: `${wanted.length} mount(s) through helper container ${helper}` });
        const r = await mountContentViaHelper(
          ctx,
          image,
          wanted,
          p,
          index.stream,
          (m) =>
            ctx.artifact(`fs/mounts/${m.n}.tar`, {
              mediaType: 'application/x-tar',
              source: `files of mount ${m.mountPoint} ${via}${m.mountPoint} (no link followed; special files not opened)`,
            }),
          p.helperTimeout * 1000,
          helper,
        );
        content = r.content;
        if (r.failure)
          ctx.warn(
            `mount content through helper container ${helper}: ${safeText(r.failure.message)}`,
          );
        for (const m of wanted) {
          const d = r.content.done.get(m.n);
          const skipped = r.content.skipped.get(m.n);
          if (d) {
            written(d.entry);
            Object.assign(m, { files: d.totals.entries, bytes: d.totals.bytes });
            const cut = describeCut(m, d.totals);
            m.collected = cut ? 'partly' : 'yes';
            if (cut) m.why = cut;
          } else if (skipped) {
            m.why = `not collected: ${skipped}`;
          } else if (m.why === undefined) {
            m.why = `not collected: the helper stopped before this mount${r.failure ? ` (${r.failure.message})` : ''}`;
          }
        }
      }
      if (root && wanted.length) {
        index = await ctx.artifact('fs/mounts-index.jsonl', {
          mediaType: 'application/x-ndjson',
          source: `lstat via /proc/${pid}/root (no link followed), one line per entry of fs/mounts/<n>.tar`,
          progress: false,
        });
        const local = new MountContent(index.stream, p, ctx.signal);
        content = local;
        for (const m of wanted) {
          if (ctx.signal.aborted)
            throw new InterruptedError(`interrupted before mount ${m.mountPoint}`);
          ctx.progress({ message: `mount ${safeText(m.mountPoint)} (${m.kind})` });
          const tar = await ctx.artifact(`fs/mounts/${m.n}.tar`, {
            mediaType: 'application/x-tar',
            source: `files of mount ${m.mountPoint} read via /proc/${pid}/root (no link followed; special files not opened)`,
          });
          m.tar = tar.path;
          let totals: MountTotals;
          try {
            totals = await local.collect(
              root,
              {
                n: m.n,
                mountPoint: m.mountPoint,
                ...(m.kind === 'tmpfs'
                  ? { allAdded: true }
                  : createdNs !== undefined
                    ? { addedAfterNs: createdNs }
                    : {}),
              },
              tar.stream,
            );
          } catch (err) {
            await tar.done(err as Error);
            // A write that failed (disk full) or an interrupt ends the step; a mount we could not walk does not.
            if (err instanceof InterruptedError || tar.stream.destroyed || index.stream.destroyed)
              throw err;
            m.collected = 'no';
            m.why = `not collected: ${(err as Error).message}`;
            ctx.warn(`mount ${safeText(m.mountPoint)}: ${safeText(m.why)}`);
            continue;
          }
          tar.stream.end();
          written(await tar.done());
          Object.assign(m, { files: totals.entries, bytes: totals.bytes });
          const cut = describeCut(m, totals);
          m.collected = cut ? 'partly' : 'yes';
          if (cut) m.why = cut;
        }
      }
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      root?.close();
      if (index) {
        index.stream.end();
        indexEntry = (await index.done(failure)) as ManifestEntry;
      }
      // Also after a failure: the list says what was and was not collected.
      const listed = await ctx.writeJson(
        'fs/mounts.json',
        mounts,
        `${mountinfo ? `${viaHelper ? "a helper container's /proc/1/mountinfo" : `/proc/${pid}/mountinfo`} joined with ` : ''}GET /containers/${ctx.target.id}/json (Mounts)`,
      );
      for (const m of mounts) {
        if (
          m.kind === 'rootfs' ||
          m.kind === 'kernel' ||
          m.kind === 'masked' ||
          m.collected === 'yes'
        )
          continue;
        const note = `mount ${m.mountPoint} (${m.kind}${m.source ? `, ${m.source}` : ''}) ${m.collected === 'partly' ? 'partly collected' : 'not collected'}: ${m.why ?? (failure ? `the step stopped: ${failure.message}` : 'unknown')}`;
        await (optedOut.has(m) ? ctx.case.noteLimitation(note) : ctx.case.noteGap(note));
      }
      // After the list and the gaps are down: a write that did not finish fails the step (unless it failed already).
      if (!failure) {
        if (indexEntry) written(indexEntry);
        written(listed);
      }
    }

    const count = (k: MountRecord['collected']) => mounts.filter((m) => m.collected === k).length;
    const listedOnly = mounts.filter(
      (m) =>
        m.collected === 'no' && m.kind !== 'rootfs' && m.kind !== 'kernel' && m.kind !== 'masked',
    );
    return {
      status: 'ok',
      summary: `${mounts.length} mounts listed: ${count('yes')} collected${count('partly') ? `, ${count('partly')} partly (budget)` : ''}${
        listedOnly.length
          ? `, ${listedOnly.length} NOT collected (${listedOnly
              .map((m) => safeText(m.mountPoint))
              .slice(0, 6)
              .join(
                ', ',
              )}${listedOnly.length > 6 ? ', …' : ''}: see the case's gaps and limitations)`
          : ''
      }; ${content?.entries ?? 0} entries, ${humanBytes(content?.taken ?? 0)}${noContent ? `; no content: ${safeText(noContent)}` : ''}`,
      details: {
        mounts: mounts.length,
        collected: count('yes'),
        partly: count('partly'),
        notCollected: listedOnly.map((m) => m.mountPoint),
        entries: content?.entries ?? 0,
        bytes: content?.taken ?? 0,
        ...(noContent ? { noContent } : {}),
      },
    };
  },
});
