import { readJson } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { parseRfc3339 } from '../time.js';
import { endpoint } from './sockets.js';

const FLOWS = /^traffic\/([^/]+)\/flows(?:-\d+)?\.json$/;

interface FlowLine {
  proto?: unknown;
  kind?: unknown;
  src?: unknown;
  srcPort?: unknown;
  dst?: unknown;
  dstPort?: unknown;
  packets?: unknown;
  bytes?: unknown;
  syns?: unknown;
  dnsNames?: unknown;
  first?: unknown;
  last?: unknown;
}

/** Packet captures (collect:traffic): one event per flow, at its first packet's capture time. */
export const trafficExtractor: Extractor = {
  name: 'traffic',
  description: 'flows seen in packet captures (traffic/<phase>/flows.json), one event per flow',
  artifacts: ['traffic/<phase>/flows.json'],
  async extract(x) {
    const rels = x.files.filter((f) => FLOWS.test(f));
    if (!rels.length) {
      x.diag.note('traffic: no traffic/<phase>/flows.json (no collect:traffic step); skipped');
      return [];
    }
    const out: TimelineEvent[] = [];
    for (const rel of rels) {
      const doc = await readJson<{ phase?: unknown; flows?: unknown }>(x.src, rel, x.diag);
      if (!doc || !Array.isArray(doc.flows)) {
        if (doc) x.diag.warn(`${rel}: no flows list; skipped`, rel);
        continue;
      }
      const phase = typeof doc.phase === 'string' ? doc.phase : FLOWS.exec(rel)![1];
      (doc.flows as FlowLine[]).forEach((f, entry) => {
        const at = f && typeof f.first === 'string' ? parseRfc3339(f.first) : undefined;
        if (!at) return x.diag.warn(`${rel}: flow ${entry} has no time; skipped`, rel);
        const names =
          Array.isArray(f.dnsNames) && f.dnsNames.length
            ? ` DNS query ${f.dnsNames.map(String).join(', ')}`
            : '';
        const what = f.kind === 'syn' ? ' SYN (connection attempt)' : names;
        out.push(
          makeEvent({
            at,
            desc: 'Packet Captured',
            message: `${String(f.proto)} ${endpoint(f.src, f.srcPort)} → ${endpoint(f.dst, f.dstPort)}${what} (${String(f.packets)} packets) [${phase}]`,
            source: 'traffic',
            kind: f.kind === 'dns' ? 'net:dns' : 'net:flow',
            actor: 'container',
            ref: { artifact: rel, entry },
            attrs: {
              phase,
              proto: f.proto,
              kind: f.kind,
              src: f.src,
              srcPort: f.srcPort,
              dst: f.dst,
              dstPort: f.dstPort,
              packets: f.packets,
              bytes: f.bytes,
              dnsNames: f.dnsNames,
              last: f.last,
            },
          }),
        );
      });
    }
    return [byTime(out)];
  },
};
