import fs from 'node:fs/promises';
import { z } from 'zod';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import {
  allowEntry,
  allowedAddress,
  cidrText,
  egressRuleset,
  egressTable,
  inboundFromPorts,
  parsePortSpec,
  portSpec,
  outboundFlows,
  probeCount,
  type EgressPlan,
} from '../containment/egress-rules.js';
import { releaseEgress } from '../containment/egress-release.js';
import {
  RECORD_PATHS,
  containerRef,
  isEgressRecord,
  type EgressRecord,
} from '../containment/records.js';
import { FailureError, PreconditionError } from '../errors.js';
import { helperExec, localExec, type NetnsExec } from '../containment/egress-exec.js';
import { probeFromHost, type ProbeResult } from '../host/netns.js';
import { defineAction, type ActionContext } from '../runner/action.js';
import type { ContainerFacts } from '../runtime/types.js';
import { safeText } from '../util/sanitize.js';

const PROBE_MS = 400;
const DISCARD_PORT = 9;

const params = z.strictObject({
  allow: z
    .array(allowEntry)
    .max(64)
    .default([])
    .describe('Destinations still allowed: [{ cidr, ports?, protocol? }]. Everything else is cut.'),
  dns: cidrText
    .optional()
    .describe(
      'A resolver the container may still query (udp and tcp port 53). Absent: DNS out is cut too.',
    ),
  inbound: z
    .array(portSpec)
    .max(64)
    .optional()
    .describe(
      "Ports that keep taking connections (`80/tcp`, `53/udp`); default: the container's published and exposed ports.",
    ),
  probe: z
    .string()
    .regex(/^[0-9a-fA-F:.]+:\d{1,5}$/, 'address:port')
    .optional()
    .describe(
      "A blocked address:port the step connects to afterwards to prove the cut; default: the network gateway's port 9.",
    ),
  helperImage: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'an image reference')
    .optional()
    .describe(
      'Remote engines: a local image with /bin/sh, nft, conntrack, timeout and nc, run as a helper container joined to the namespace (NET_ADMIN).',
    ),
});
type Params = z.output<typeof params>;

/** The container's network namespace must be its own: never the host's or another container's. */
async function ownNetns(facts: ContainerFacts): Promise<string> {
  if (facts.sharedNetwork)
    throw new PreconditionError(
      `container ${safeText(facts.name)} ${facts.sharedNetwork}: rules there would hold for more than this container`,
      {
        hint: 'Restrict the container that owns the namespace, or use contain:network-isolate / contain:pause.',
      },
    );
  const [theirs, ours] = await Promise.all([
    fs.readlink(`/proc/${facts.state.pid}/ns/net`),
    fs.readlink('/proc/self/ns/net'),
  ]);
  if (theirs === ours)
    throw new PreconditionError(
      `container ${safeText(facts.name)} shares cirt's own network namespace (${theirs}): refusing to firewall the host`,
    );
  return theirs;
}

function plan(ctx: ActionContext, facts: ContainerFacts, p: Params): EgressPlan {
  const allow = [...p.allow];
  if (p.dns) allow.push({ cidr: p.dns, ports: [53], protocol: 'any' });
  const inbound = p.inbound ? p.inbound.map(parsePortSpec) : inboundFromPorts(facts.ports);
  let probe: EgressPlan['probe'] = null;
  if (p.probe) {
    const i = p.probe.lastIndexOf(':');
    probe = { ip: p.probe.slice(0, i), port: Number(p.probe.slice(i + 1)) };
  } else {
    const gw = facts.networks.find((n) => n.gateway)?.gateway;
    if (gw) probe = { ip: gw, port: DISCARD_PORT };
  }
  if (probe && allowedAddress(probe.ip, allow))
    throw new PreconditionError(
      `the probe address ${probe.ip} is in the allow list, so probing it cannot show the cut works; nothing was changed`,
      { hint: 'Name a blocked address with `probe: <ip>:<port>`.' },
    );
  return { table: egressTable(ctx.case.id), caseId: ctx.case.id, inbound, allow, probe };
}

async function nft(exec: NetnsExec, args: string[], stdin?: string): Promise<string> {
  const r = await exec.nft(args, stdin);
  if (r.code !== 0)
    throw new FailureError(
      `nft ${args.join(' ')} in the container's network namespace (${exec.where}) failed (exit ${r.code}): ${safeText(r.stderr.trim().slice(0, 500))}`,
      {
        hint: exec.where.startsWith('nsenter')
          ? "Install Debian's nftables on the engine host (scripts/setup-engine.sh) and run cirt as root."
          : 'The helper image needs /bin/sh and nft (nftables): pass `helperImage:` naming such an image on the engine.',
      },
    );
  return r.stdout;
}

/** Where the step probes a published port from: the container's address here, the engine's host address when remote. */
function portTargets(
  facts: ContainerFacts,
  local: boolean,
  engine: string,
  inbound: EgressPlan['inbound'],
): { port: number; host: string; hostPort: number }[] {
  const ip = facts.networks.find((n) => n.ipv4)?.ipv4;
  const engineHost = /^[a-z]+:\/\/\[?([^\]/]+?)\]?:\d+/.exec(engine)?.[1];
  const out: { port: number; host: string; hostPort: number }[] = [];
  for (const i of inbound) {
    if (i.protocol !== 'tcp') continue;
    if (local) {
      if (ip) out.push({ port: i.port, host: ip, hostPort: i.port });
      continue;
    }
    const b = (facts.ports[`${i.port}/tcp`] ?? []).find((x) =>
      ['', '0.0.0.0', '::'].includes(x.HostIp),
    );
    if (b && engineHost) out.push({ port: i.port, host: engineHost, hostPort: Number(b.HostPort) });
  }
  return out;
}

export const containRestrictEgress = defineAction({
  name: 'contain:restrict-egress',
  description:
    "Cut the container's way out and keep it serving: in its own network namespace (entered from the host with " +
    'nsenter, never an exec in the container) an nftables table drops every connection the container opens, new or ' +
    'already established (a live C2 session dies), and forwarding, except to the allow list (and a named DNS ' +
    "resolver); connections to its published ports keep working. The namespace's previous rules and the rules " +
    'applied are artifacts. Probes afterwards that a blocked address fails and the published ports answer. Undo ' +
    'with `cirt release --case <id>`: it deletes exactly this table.',
  example: [
    '- id: restrict-egress',
    '  uses: contain:restrict-egress',
    '  with:',
    '    allow:',
    '      - { cidr: 10.20.0.0/16, ports: [5432], protocol: tcp }',
    '    dns: 10.20.0.2',
    '  confirm: true',
  ].join('\n'),
  params,
  mutates: true,
  plan: (p, t) =>
    `drop every connection ${t.name} opens (and established ones: a C2 session dies) except ${p.allow.length} allowed destination(s)${p.dns ? ` and DNS to ${p.dns}` : ''}; its published ports keep serving; undo with cirt release`,
  // The namespace is entered from the engine's host (nsenter), or, given helperImage, through a helper container.
  needs: (p) => (p.helperImage ? ['inspect', 'helper'] : ['inspect', 'host-proc']),
  async check(ctx) {
    await requireLiveTarget(ctx, 'network namespace');
  },
  async run(ctx, p) {
    const t0 = Date.now();
    const facts = await requireLiveTarget(ctx, 'network namespace');
    const ref = containerRef(facts);
    if (facts.networkMode === 'none')
      return {
        status: 'noop',
        summary: `${ref.name} has no network (network mode none): nothing to restrict`,
      };
    const view = await hostView(ctx, facts.state.pid);
    const local = view.ok;
    if (!local && !p.helperImage)
      throw new PreconditionError(
        `cannot enter the network namespace of ${ref.name}: ${view.reason}`,
        {
          hint: 'Run cirt as root on the engine host, or pass `helperImage:` (an image with nft) to go through a helper container; contain:network-isolate works from anywhere.',
        },
      );
    const pid = facts.state.pid;
    let netns: string;
    if (local) netns = await ownNetns(facts);
    else if (facts.sharedNetwork)
      throw new PreconditionError(
        `container ${safeText(facts.name)} ${facts.sharedNetwork}: rules there would hold for more than this container`,
        { hint: 'Restrict the container that owns the namespace, or use contain:network-isolate.' },
      );
    else netns = `the namespace of container ${ref.id.slice(0, 12)} (remote engine)`;
    const exec = local
      ? localExec(pid)
      : helperExec(ctx.runtime, ref, p.helperImage!, ctx.signal, {
          'cirt.case': ctx.case.id,
          'cirt.step': ctx.stepId,
        });
    const pl = plan(ctx, facts, p);
    const ip = facts.networks.find((n) => n.ipv4)?.ipv4;
    // The container's service, seen from outside before anything changes: a port that did not answer before proves nothing after.
    const published = portTargets(facts, local, ctx.runtime.info.address, pl.inbound);
    if (!local && pl.inbound.some((i) => i.protocol === 'tcp') && !published.length)
      ctx.warn(
        `no published port of ${ref.name} is reachable from here through the engine's address: the inbound side is not probed`,
      );
    const before = new Map<number, ProbeResult>();
    await Promise.all(
      published.map(async (i) =>
        before.set(i.port, await probeFromHost(i.host, i.hostPort, local ? PROBE_MS : 1_000)),
      ),
    );

    // One read gives the previous rules (evidence) and whether this case's table is there already.
    // The flows conntrack knows, read alongside: which connections the rules are about to cut.
    const [previous, flows] = await Promise.all([
      nft(exec, ['list', 'ruleset']),
      exec.conntrack().catch((err: Error) => ({
        code: null,
        stdout: '',
        stderr: err.message,
      })),
    ]);
    if (previous.split('\n').some((l) => l.trim() === `table inet ${pl.table} {`))
      return {
        status: 'noop',
        summary: `egress of ${ref.name} is already restricted by this case (nftables table ${pl.table} in its namespace)`,
        details: { table: pl.table, netns },
      };
    const prev = await ctx.writeArtifact('net/egress/ruleset-before.nft', previous, {
      mediaType: 'text/plain',
      source: `${exec.where}: nft list ruleset`,
    });
    let cutFlows: number | null = null;
    if (flows.code === 0) {
      await ctx.writeArtifact('net/egress/conntrack-before.txt', flows.stdout, {
        mediaType: 'text/plain',
        source: `${exec.where}: conntrack -L`,
      });
      cutFlows = outboundFlows(flows.stdout, ip, pl).length;
    } else
      ctx.warn(
        `the connection tracking table was not read (${safeText(flows.stderr.trim().slice(0, 200))}): install Debian's conntrack for the list of flows cut`,
      );
    const text = egressRuleset(pl);
    const applied = await ctx.writeArtifact('net/egress/ruleset-applied.nft', text, {
      mediaType: 'text/plain',
      source: 'cirt contain:restrict-egress (the script fed to nft -f -)',
    });
    const record: EgressRecord = {
      schema: 'cirt.containment.restrict-egress/1',
      container: ref,
      caseId: ctx.case.id,
      table: pl.table,
      family: 'inet',
      pid,
      netns,
      via: local ? 'nsenter' : 'helper',
      ...(local ? {} : { helperImage: p.helperImage }),
      state: facts.state.status,
      rulesetBefore: { path: prev.path, sha256: prev.sha256 },
      rulesetApplied: { path: applied.path, sha256: applied.sha256 },
      plan: pl,
      appliedAt: new Date().toISOString(),
    };
    // Written before the change: release knows what to delete even if the step dies halfway.
    const written = await ctx.writeJson(RECORD_PATHS.egress, record, facts.source);
    await nft(exec, ['-f', '-'], text);
    const cutMs = Date.now() - t0;
    ctx.progress({ message: `rules in force after ${cutMs} ms; probing` });

    const problems: string[] = [];
    const proof: Record<string, unknown> = { cutMs };
    if (pl.probe) {
      const r = await exec.probe(pl.probe.ip, pl.probe.port, PROBE_MS);
      const counted = probeCount(await nft(exec, ['list', 'table', 'inet', pl.table])) ?? 0;
      proof.blockedProbe = {
        to: `${pl.probe.ip}:${pl.probe.port}`,
        result: r,
        droppedByRule: counted,
      };
      if (r !== 'timeout' && !r.includes('EPERM'))
        problems.push(
          `a connection to the blocked address ${pl.probe.ip}:${pl.probe.port} was answered (${r})`,
        );
      else if (counted === 0)
        problems.push(
          `the probe to ${pl.probe.ip}:${pl.probe.port} failed, but not at cirt's rule (it counted no packet)`,
        );
    } else {
      ctx.warn(
        `${ref.name} has no network gateway to probe: the cut is applied but not probed (pass probe: <ip>:<port>)`,
      );
    }
    const ports: Record<string, string> = {};
    for (const i of published) {
      const r = await probeFromHost(i.host, i.hostPort, 1_000);
      ports[`${i.port}/tcp`] = r;
      if (r !== 'connected') {
        if (before.get(i.port) === 'connected')
          problems.push(`port ${i.port}/tcp answered before the rules and does not now (${r})`);
        else
          ctx.warn(
            `port ${i.port}/tcp did not answer before the rules either (${before.get(i.port)})`,
          );
      }
    }
    proof.inboundProbe = ports;
    const after = await ctx.writeArtifact(
      'net/egress/ruleset-after.nft',
      await nft(exec, ['list', 'ruleset']),
      {
        mediaType: 'text/plain',
        source: `${exec.where}: nft list ruleset`,
      },
    );
    if (problems.length)
      throw new FailureError(
        `egress of ${ref.name} is restricted but not verified: ${problems.join('; ')}`,
        {
          hint: `The rules stay in force (table ${pl.table}; ${written.path}); check them in ${after.path}, or undo with cirt release.`,
        },
      );
    if (facts.state.paused)
      ctx.warn(
        `${ref.name} is paused: the rules are in its namespace and hold when it is thawed; meanwhile its ports accept connections (the kernel answers) but nothing serves them until then`,
      );
    return {
      status: 'ok',
      summary:
        `egress of ${ref.name} restricted in ${cutMs} ms (nftables table ${pl.table}): new and established outbound connections dropped${cutFlows ? ` (${cutFlows} open flow${cutFlows === 1 ? '' : 's'} cut)` : ''}` +
        `${pl.allow.length ? ` except ${pl.allow.length} allowed` : ''}; probe to ${pl.probe ? `${pl.probe.ip}:${pl.probe.port} blocked` : 'nothing'}` +
        `${published.length ? `; ${published.map((i) => `${i.port}/tcp`).join(', ')} still answer${published.length === 1 ? 's' : ''}` : ''}`,
      details: {
        table: pl.table,
        netns,
        record: written.path,
        rulesetBefore: prev.path,
        rulesetApplied: applied.path,
        rulesetAfter: after.path,
        allow: pl.allow,
        inbound: pl.inbound,
        outboundFlowsCut: cutFlows,
        ...proof,
      },
    };
  },
  undo: {
    action: 'release:restrict-egress',
    key: 'egress',
    label: 'the egress restriction',
    validRecord: isEgressRecord,
    // After settings and limits, before the networks come back and the thaw.
    order: 2.5,
    tracks: 'records',
    run: ({ runtime, facts }, { records }: { records: EgressRecord[] }) =>
      releaseEgress(runtime, facts, records),
  },
});
