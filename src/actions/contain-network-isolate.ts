import { z } from 'zod';
import { RECORD_PATHS, containerRef, type IsolationRecord } from '../containment/records.js';
import { inspectContainer } from '../docker/inspect.js';
import {
  DEFAULT_QUARANTINE,
  NETWORK_NAME,
  caseAlias,
  caseFromAliases,
  endpointRecords,
  ensureQuarantineNetwork,
  resolveEndpointIds,
  sharedNamespace,
} from '../docker/networks.js';
import { defineAction } from '../runner/action.js';
import { FailureError, PreconditionError } from '../errors.js';
import { engineMessage } from '../docker/errors.js';

export const containNetworkIsolate = defineAction({
  name: 'contain:network-isolate',
  description:
    'Record every network the container is on (name, id, aliases, IPs, MAC, gateway), disconnect it from all of them ' +
    '(published ports stop answering, open connections stop carrying data) and attach it to an internal quarantine ' +
    'network with no route out and no traffic between its containers. Undo with `cirt release --case <id>`.',
  example: ['- id: isolate', '  uses: contain:network-isolate', '  with:', `    network: ${DEFAULT_QUARANTINE}`].join('\n'),
  params: z.strictObject({
    network: z
      .string()
      .regex(NETWORK_NAME, 'a Docker network name (letters, digits, dot, dash, underscore)')
      .default(DEFAULT_QUARANTINE)
      .describe('Name of the internal quarantine network; created (internal, inter-container traffic off) if missing.'),
  }),
  mutates: true,
  plan: (p, t) =>
    `record the networks of ${t.name}, disconnect it from every one (its published ports and open connections go dead) ` +
    `and attach it to the internal network ${p.network} (created if missing); undo with cirt release`,
  async run(ctx, p) {
    const info = await ctx.inspect();
    const ref = containerRef(info);
    const shared = sharedNamespace(info);
    if (shared) {
      throw new PreconditionError(`container ${ref.name} ${shared}: the engine cannot take it off that network`, {
        hint: 'Use contain:pause, contain:stop or contain:kill instead, or isolate the container that owns the namespace.',
      });
    }
    if (info.HostConfig?.NetworkMode === 'none') {
      return { status: 'noop', summary: `${ref.name} has no network (network mode none): nothing to isolate` };
    }
    const q = await ensureQuarantineNetwork(ctx.docker, p.network);
    for (const w of q.warnings) ctx.warn(w);
    const endpoints = await resolveEndpointIds(ctx.docker, endpointRecords(info));
    const onQuarantine = endpoints.find((e) => e.id === q.id);
    const others = endpoints.filter((e) => e.id !== q.id);
    if (onQuarantine && others.length === 0) {
      const by = caseFromAliases(onQuarantine.aliases);
      return {
        status: 'noop',
        summary: `${ref.name} is already isolated: only on quarantine network ${q.name}${by ? ` (by case ${by})` : ''}`,
        details: { quarantine: { name: q.name, id: q.id }, case: by ?? null },
      };
    }

    const alias = caseAlias(ctx.case.id);
    // Written before anything changes: after disconnecting, the IP and MAC vanish from inspect.
    const record: IsolationRecord = {
      schema: 'cirt.containment.network-isolate/1',
      container: ref,
      caseId: ctx.case.id,
      quarantineNetwork: { name: q.name, id: q.id, created: q.created, alias },
      before: others,
      ports: (info.NetworkSettings?.Ports ?? {}) as IsolationRecord['ports'],
      state: info.State.Status,
      disconnectedAt: new Date().toISOString(),
    };
    const written = await ctx.writeJson(RECORD_PATHS.isolate, record, `GET /containers/${ref.id}/json`);

    const failures: string[] = [];
    // Keep going after a failure: every network we do get off is one less way out.
    for (const e of others) {
      try {
        await ctx.docker.getNetwork(e.id || e.name).disconnect({ Container: ref.id, Force: true });
      } catch (err) {
        failures.push(`${e.name}: ${engineMessage(err)}`);
      }
      ctx.progress({ message: `disconnected from ${e.name}` });
    }
    if (!onQuarantine) {
      try {
        await ctx.docker.getNetwork(q.id).connect({ Container: ref.id, EndpointConfig: { Aliases: [alias] } });
      } catch (err) {
        failures.push(`connect ${q.name}: ${engineMessage(err)}`);
      }
    }
    const left = endpointRecords(await inspectContainer(ctx.docker, ref.id)).map((e) => e.name);
    const exposed = left.filter((n) => n !== q.name);
    if (exposed.length || failures.length) {
      throw new FailureError(
        `isolating ${ref.name} is incomplete: still on ${exposed.length ? exposed.join(', ') : 'no open network'}; ${failures.join('; ') || 'no engine error'}`,
        { hint: `The networks it was on are recorded in ${written.path}; retry the step, or pause/stop the container.` },
      );
    }
    return {
      status: 'ok',
      summary: `isolated ${ref.name}: disconnected from ${others.map((e) => e.name).join(', ') || 'no network'}; now only on ${q.name}${q.created ? ' (created)' : ''}`,
      details: {
        quarantine: { name: q.name, id: q.id, created: q.created, alias },
        disconnected: others.map((e) => ({ name: e.name, id: e.id, ipv4: e.ipv4 })),
        state: info.State.Status,
        record: written.path,
      },
    };
  },
});
