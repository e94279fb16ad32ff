import type fs from 'node:fs/promises';
import { z } from 'zod';
import { assertTargetPresent } from '../runtime/target-gone.js';
import { defineAction } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import { isGone } from '../host/proc.js';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import { snapshotViaHelper } from '../collect/net-helper.js';
import { NET_FILES, NetSnapshot } from '../collect/net-snapshot.js';
import { safeText } from '../util/sanitize.js';

const params = z.strictObject({
  phase: z
    .string()
    .regex(/^[a-z0-9-]{1,40}$/, 'lowercase letters, digits and dashes (≤ 40)')
    .default('snapshot')
    .describe('names the snapshot folder net/<phase>/ (e.g. before-isolation, after-isolation)'),
  via: z
    .enum(['auto', 'host', 'helper'])
    .default('auto')
    .describe(
      "where to read /proc/<pid>/net from: the engine host's /proc (host), a helper container joined to the target's namespaces (helper), or host when possible (auto)",
    ),
  helperImage: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'an image reference')
    .optional()
    .describe(
      "image for the helper container (needs /bin/sh, cat, wc, readlink); default: the target's own image, which is local by definition",
    ),
});

export const collectNetwork = defineAction({
  name: 'collect:network',
  description:
    "Snapshot the container's network state: tcp/tcp6/udp/udp6/unix sockets decoded with their owning processes, interfaces, routes and ARP, beside the raw /proc text. Read from the host's /proc, or through a short-lived helper container when the engine is remote. Works on a paused container.",
  example: ['- uses: collect:network', '  with:', '    phase: before-isolation'].join('\n'),
  params,
  mutates: false,
  plan: (p, t) =>
    `snapshot sockets, interfaces, routes and ARP of ${t.name} into net/${p.phase}/` +
    (p.via === 'helper'
      ? ` through a helper container (image ${p.helperImage ?? "the target's own"}) joined to its network and pid namespaces, removed afterwards`
      : p.via === 'host'
        ? " from the host's /proc"
        : " from the host's /proc (or a helper container joined to its namespaces when the engine is remote)"),
  needs: (p) =>
    p.via === 'host'
      ? ['inspect', 'host-proc']
      : p.via === 'helper'
        ? ['inspect', 'helper']
        : ['inspect'],
  async check(ctx) {
    await requireLiveTarget(ctx, 'network namespaces');
  },
  async run(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'network namespaces');
    const pid = facts.state.pid;
    const view = await hostView(ctx, pid);
    if (p.via === 'host' && !view.ok) {
      throw new PreconditionError(
        `cannot read the network state of ${safeText(ctx.target.name)} from this host: ${view.reason}`,
        {
          hint: 'Use `via: helper` (or `auto`) to read it through a helper container joined to its namespaces.',
        },
      );
    }
    const useHost = p.via !== 'helper' && view.ok;
    if (!useHost && p.via === 'auto' && !view.ok)
      ctx.warn(`host /proc not usable (${view.reason}); using a helper container`);
    const snap = new NetSnapshot(ctx, p.phase);
    const dir = `/proc/${pid}/net`;
    const image = p.helperImage ?? facts.imageId;
    await snap.begin(
      useHost
        ? `${dir}/{tcp,tcp6,udp,udp6,unix}`
        : `helper container: /proc/1/net/{tcp,tcp6,udp,udp6,unix}`,
    );
    let helper: { id: string; name: string; image: string } | undefined;
    if (view.ok && useHost) {
      const host = view.host;
      // Owners first, so every socket line can be labelled as it streams past.
      snap.setOwners(await host.socketOwners(await host.containerPids(pid)));
      let missing = 0;
      for (const file of NET_FILES) {
        let fh: fs.FileHandle;
        try {
          fh = await host.open(`${dir}/${file}`);
        } catch (err) {
          if (isGone(err)) {
            missing++;
            snap.skip(file, `${dir}/${file} does not exist`);
          } else snap.skip(file, (err as Error).message);
          continue;
        }
        await snap.file(file, fh.createReadStream(), `${dir}/${file}`);
      }
      // A vanished /proc/<pid>/net is what a removed container looks like from the host.
      if (missing)
        await assertTargetPresent(
          ctx.runtime,
          ctx.target,
          `${missing} of the /proc/${pid}/net files were gone when read`,
        );
    } else {
      const r = await snapshotViaHelper(ctx, snap, image);
      helper = { id: r.id, name: r.name, image: r.image };
    }
    const counts = await snap.finish(useHost ? dir : 'helper container: /proc/1/net');
    const via = useHost
      ? `host /proc/${pid}/net`
      : `helper container ${helper!.name} (image ${image}, removed)`;
    await ctx.writeJson(
      `net/${p.phase}/collection.json`,
      {
        phase: p.phase,
        via: useHost ? 'host' : 'helper',
        pidNamespace: useHost ? 'host' : 'container',
        initPid: pid,
        paused: facts.state.paused,
        networkMode: facts.networkMode,
        ...(helper ? { helper } : {}),
        unread: snap.unread,
        at: new Date().toISOString(),
      },
      useHost ? dir : `helper container ${helper!.id}`,
    );
    const established = snap.states.ESTABLISHED ?? 0;
    const listen = snap.states.LISTEN ?? 0;
    return {
      status: 'ok',
      summary: `${counts.sockets} sockets (${established} established, ${listen} listening), ${counts.interfaces} interfaces, ${counts.routes} routes, ${counts.arp} ARP entries, via ${via}`,
      details: {
        phase: p.phase,
        via: useHost ? 'host' : 'helper',
        ...(helper ? { helper } : {}),
        ...counts,
        states: snap.states,
        unread: snap.unread,
      },
    };
  },
});
