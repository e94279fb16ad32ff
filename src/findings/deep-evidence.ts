import type { CaseSource } from '../evidence/case-source.js';
import { readJson, type Diagnostics } from '../timeline/artifacts.js';

/** One YARA match as evidence:yara wrote it (yara/matches.json). */
export interface YaraHit {
  rule: string;
  string: string | null;
  artifact: string;
  member: string | null;
  offset: number | null;
  entry: number;
  source: string;
}

/** One flow as collect:traffic wrote it (traffic/<phase>/flows.json). */
export interface TrafficFlow {
  phase: string;
  proto: string;
  kind: string;
  src: string;
  srcPort: number | null;
  dst: string;
  dstPort: number | null;
  packets: number;
  dnsNames: string[];
  first: string | null;
  last: string | null;
  artifact: string;
  entry: number;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The YARA matches and captured flows of a case (every version of each artifact). */
export async function loadDeepEvidence(
  src: CaseSource,
  files: readonly string[],
  diag: Diagnostics,
): Promise<{ yara: YaraHit[]; traffic: TrafficFlow[] }> {
  const yara: YaraHit[] = [];
  for (const rel of files.filter((f) => /^yara\/matches(-\d+)?\.json$/.test(f))) {
    const doc = await readJson<{ matches?: unknown }>(src, rel, diag);
    if (!Array.isArray(doc?.matches)) continue;
    (doc.matches as Record<string, unknown>[]).forEach((m, entry) => {
      if (!m || typeof m.rule !== 'string' || typeof m.artifact !== 'string') return;
      yara.push({
        rule: m.rule,
        string: str(m.string),
        artifact: m.artifact,
        member: str(m.member),
        offset: num(m.offset),
        entry,
        source: rel,
      });
    });
  }
  const traffic: TrafficFlow[] = [];
  for (const rel of files.filter((f) => /^traffic\/[^/]+\/flows(-\d+)?\.json$/.test(f))) {
    const doc = await readJson<{ phase?: unknown; flows?: unknown }>(src, rel, diag);
    if (!Array.isArray(doc?.flows)) continue;
    const phase = str(doc.phase) ?? rel.split('/')[1];
    (doc.flows as Record<string, unknown>[]).forEach((f, entry) => {
      if (!f || typeof f.dst !== 'string' || typeof f.src !== 'string') return;
      traffic.push({
        phase,
        proto: String(f.proto ?? ''),
        kind: String(f.kind ?? ''),
        src: f.src,
        srcPort: num(f.srcPort),
        dst: f.dst,
        dstPort: num(f.dstPort),
        packets: num(f.packets) ?? 0,
        dnsNames: Array.isArray(f.dnsNames) ? f.dnsNames.filter((n) => typeof n === 'string') : [],
        first: str(f.first),
        last: str(f.last),
        artifact: rel,
        entry,
      });
    });
  }
  return { yara, traffic };
}
