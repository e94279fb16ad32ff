import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { FailureError, PreconditionError } from '../errors.js';
import { hostView, requireLiveTarget } from '../collect/live-target.js';
import { captureTraffic } from '../collect/traffic-capture.js';
import { MAX_RECORD } from '../collect/pcap.js';
import { caseFromAliases } from '../runtime/quarantine.js';
import type { ContainerFacts } from '../runtime/types.js';
import { bytesParam } from '../util/bytes-param.js';
import { safeText } from '../util/sanitize.js';

const params = z.strictObject({
  seconds: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(30)
    .describe('how long to capture; the step takes this long'),
  before: z
    .boolean()
    .default(false)
    .describe(
      "capture on the container's own networks before isolation (put the step before contain:network-isolate): the cut is delayed by `seconds` while the container still talks to the world",
    ),
  maxBytes: bytesParam('64MiB', 'pcap bytes kept; the capture stops at a record boundary past it'),
  maxPackets: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .default(100_000)
    .describe('packets captured at most (tcpdump -c)'),
  snapLength: z
    .number()
    .int()
    .min(96)
    .max(MAX_RECORD)
    .default(MAX_RECORD)
    .describe('bytes kept of each packet (tcpdump -s)'),
});

/** True when every network endpoint of the container is a cirt quarantine (alias of a case). */
function isolated(f: ContainerFacts): boolean {
  return f.networks.length > 0 && f.networks.every((e) => caseFromAliases(e.aliases) !== undefined);
}

export const collectTraffic = defineAction({
  name: 'collect:traffic',
  description:
    "Capture the container's packets for `seconds` with Debian's tcpdump run from the host in the container's network namespace (nsenter -n; -i any: every interface of the container, loopback included): after isolation it is a sinkhole showing what the container tries to reach once cut off (DNS queries, SYNs to its C2). Writes traffic/<phase>/capture.pcap (standard pcap, `tcpdump -r`, Wireshark), hashed while written and bounded by maxBytes/maxPackets, and traffic/<phase>/flows.json (one line per flow, read by the timeline and findings). The container must be running (a paused one sends nothing): put it before contain:pause. Cost: `seconds` of wall time; `before: true` delays the isolation by as much.",
  example: ['- uses: collect:traffic', '  with:', '    seconds: 20'].join('\n'),
  params,
  mutates: false,
  plan: (p, t) =>
    `capture the packets of ${t.name} for ${p.seconds} s ${p.before ? 'on its own networks, before isolation (this delays the cut)' : 'on its quarantine network, after isolation'} into traffic/${p.before ? 'before' : 'after'}-isolation/capture.pcap (at most ${p.maxBytes} bytes, ${p.maxPackets} packets)`,
  needs: ['inspect', 'host-proc'],
  async check(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'network namespaces');
    if (facts.state.paused)
      throw new PreconditionError(
        `container ${safeText(ctx.target.name)} is paused: its processes send nothing, so a capture would be empty`,
        { hint: 'Run collect:traffic before contain:pause (isolate, capture, then pause).' },
      );
    if (!p.before && !isolated(facts))
      throw new PreconditionError(
        `container ${safeText(ctx.target.name)} is not isolated (still on ${facts.networks.map((e) => e.name).join(', ') || 'no network'}): an after-isolation capture would record its live traffic`,
        {
          hint: 'Put collect:traffic after contain:network-isolate, or set `before: true` to capture on its own networks on purpose.',
        },
      );
  },
  async run(ctx, p) {
    const facts = await requireLiveTarget(ctx, 'network namespaces');
    const view = await hostView(ctx, facts.state.pid);
    if (!view.ok)
      throw new PreconditionError(
        `cannot enter the network namespace of ${safeText(ctx.target.name)}: ${view.reason}`,
        { hint: 'collect:traffic runs tcpdump on the engine host; run cirt there.' },
      );
    const phase = p.before ? 'before-isolation' : 'after-isolation';
    const pid = facts.state.pid;
    const h = await ctx.artifact(`traffic/${phase}/capture.pcap`, {
      mediaType: 'application/vnd.tcpdump.pcap',
      source: `tcpdump -i any in the network namespace of host pid ${pid} (nsenter -t ${pid} -n)`,
    });
    const startedAt = new Date().toISOString();
    let r;
    try {
      r = await captureTraffic(h.stream, {
        pid,
        seconds: p.seconds,
        maxBytes: p.maxBytes,
        maxPackets: p.maxPackets,
        snapLength: p.snapLength,
        signal: ctx.signal,
      });
    } catch (err) {
      h.stream.end();
      await h.done(err as Error);
      throw err;
    }
    h.stream.end();
    const pcap = await h.done(r.error ? new Error(r.error) : undefined);
    const flows = r.flows.list();
    const flowsEntry = await ctx.writeJson(
      `traffic/${phase}/flows.json`,
      {
        schema: 'cirt.traffic.flows/1',
        phase,
        capture: pcap.path,
        startedAt,
        finishedAt: new Date().toISOString(),
        seconds: p.seconds,
        linkType: r.flows.header?.linkType ?? null,
        packets: r.flows.packets,
        unparsed: r.flows.unparsed,
        bytes: r.bytes,
        clipped: r.clipped,
        tcpdump: { command: r.command, stderr: r.stderr },
        flows,
      },
      pcap.path,
    );
    if (r.clipped)
      await ctx.case.noteGap(`collect:traffic: ${pcap.path} stopped early: ${r.clipped}`);
    if (r.error) {
      await ctx.case.noteGap(`collect:traffic: ${r.error}`);
      throw new FailureError(
        `capture of ${safeText(ctx.target.name)} failed: ${safeText(r.error)}`,
        {
          hint: 'Is tcpdump installed on the engine host (apt-get install tcpdump), and is cirt root?',
        },
      );
    }
    const syn = flows.filter((f) => f.kind === 'syn').length;
    const dns = flows.filter((f) => f.kind === 'dns');
    return {
      status: 'ok',
      summary: `${r.flows.packets} packets in ${p.seconds} s (${phase}): ${flows.length} flows, ${syn} connection attempts, ${dns.length} DNS queries${r.clipped ? `; stopped early: ${r.clipped}` : ''} → ${pcap.path}`,
      details: {
        phase,
        packets: r.flows.packets,
        bytes: r.bytes,
        flows: flows.length,
        syn,
        dnsNames: [...new Set(dns.flatMap((f) => f.dnsNames))].slice(0, 50).map((n) => safeText(n)),
        clipped: r.clipped,
        artifacts: [pcap.path, flowsEntry.path],
      },
    };
  },
});
