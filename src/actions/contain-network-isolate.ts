import { z } from 'zod';
import {
  RECORD_PATHS,
  containerRef,
  type IsolationRecord,
  isIsolationRecord,
} from '../containment/records.js';
import {
  DEFAULT_QUARANTINE,
  NETWORK_NAME,
  caseAlias,
  caseFromAliases,
} from '../runtime/quarantine.js';
import { defineAction } from '../runner/action.js';
import { FailureError, PreconditionError } from '../errors.js';

export const containNetworkIsolate = defineAction({
  name: 'contain:network-isolate',
  description:
    'Record every network the container is on (name, id, aliases, IPs, MAC, gateway), disconnect it from all of them ' +
    '(published ports stop answering, open connections stop carrying data) and attach it to an internal quarantine ' +
    'network with no route out and no traffic between its containers. Undo with `cirt release --case <id>`.',
  example: [
    '- id: isolate',
    '  uses: contain:network-isolate',
    '  with:',
    `    network: ${DEFAULT_QUARANTINE}`,
  ].join('\n'),
  params: z.strictObject({
    network: z
      .string()
      .regex(NETWORK_NAME, 'a Docker network name (letters, digits, dot, dash, underscore)')
      .default(DEFAULT_QUARANTINE)
      .describe(
        'Name of the internal quarantine network; created (internal, inter-container traffic off) if missing.',
      ),
  }),
  mutates: true,
  plan: (p, t) =>
    `record the networks of ${t.name}, disconnect it from every one (its published ports and open connections go dead) ` +
    `and attach it to the internal network ${p.network} (created if missing); undo with cirt release`,
  needs: ['inspect', 'network-isolate'],
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    const shared = facts.sharedNetwork;
    if (shared) {
      throw new PreconditionError(
        `container ${ref.name} ${shared}: the engine cannot take it off that network`,
        {
          hint: 'Use contain:pause, contain:stop or contain:kill instead, or isolate the container that owns the namespace.',
        },
      );
    }
    if (facts.networkMode === 'none') {
      return {
        status: 'noop',
        summary: `${ref.name} has no network (network mode none): nothing to isolate`,
      };
    }
    const prepared = await ctx.runtime.prepareIsolation(facts, p.network);
    const q = prepared.quarantine;
    for (const w of q.warnings) ctx.warn(w);
    const endpoints = prepared.endpoints;
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
      ports: facts.ports,
      state: facts.state.status,
      disconnectedAt: new Date().toISOString(),
    };
    const written = await ctx.writeJson(RECORD_PATHS.isolate, record, facts.source);

    const { failures, stillOn: exposed } = await ctx.runtime.isolate(
      facts,
      prepared,
      alias,
      (message) => ctx.progress({ message }),
    );
    if (exposed.length || failures.length) {
      throw new FailureError(
        `isolating ${ref.name} is incomplete: still on ${exposed.length ? exposed.join(', ') : 'no open network'}; ${failures.join('; ') || 'no engine error'}`,
        {
          hint: `The networks it was on are recorded in ${written.path}; retry the step, or pause/stop the container.`,
        },
      );
    }
    return {
      status: 'ok',
      summary: `isolated ${ref.name}: disconnected from ${others.map((e) => e.name).join(', ') || 'no network'}; now only on ${q.name}${q.created ? ' (created)' : ''}`,
      details: {
        quarantine: { name: q.name, id: q.id, created: q.created, alias },
        disconnected: others.map((e) => ({ name: e.name, id: e.id, ipv4: e.ipv4 })),
        state: facts.state.status,
        record: written.path,
      },
    };
  },
  undo: {
    action: 'release:network-isolate',
    key: 'isolations',
    label: 'the network isolation',
    validRecord: isIsolationRecord,
    order: 3,
    tracks: 'records',
    /**
     * Puts the container back on every network the case took it off (the union of its isolation
     * records), then takes it off the quarantine; if any cannot be rejoined it stays quarantined.
     */
    run: ({ runtime, facts, caseId }, { records }: { records: IsolationRecord[] }) =>
      runtime.restoreNetworks(facts, caseId, records),
  },
});
