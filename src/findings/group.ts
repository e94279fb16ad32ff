import type { Finding } from './types.js';

/** Where one finding of a group was found. */
export interface FindingPlace {
  container: string;
  engine: string;
  caseId: string;
  finding: Finding;
}

/** One finding across an incident's cases: the same rule on the same thing, in every place it was seen. */
export interface FindingGroup {
  rule: string;
  title: string;
  severity: string;
  technique: string;
  /** What makes the places one finding: a sha256 the summaries share, or the summary itself. */
  key: string;
  /** The first place's summary, with that container's name. */
  summary: string;
  places: FindingPlace[];
}

const SHA256 = /\b[0-9a-f]{64}\b/;

/**
 * The grouping key of a finding: its rule and the content hash its summary names (the same
 * dropper is one finding wherever it was dropped, under any path), else its rule and summary with
 * the container's own name and id taken out (the same path changed in three replicas is one).
 */
export function groupKey(f: Finding, container: { name: string; id: string }): string {
  const summary = String(f.summary ?? '');
  const hash = SHA256.exec(summary);
  if (hash) return `${String(f.rule)}\0sha256:${hash[0]}`;
  let s = summary;
  for (const word of [container.id, container.id.slice(0, 12), container.name].filter(
    (w) => w.length >= 3,
  ))
    s = s.split(word).join('<container>');
  return `${String(f.rule)}\0${s}`;
}

/** One case's findings, with how its rows are labelled. */
export interface GroupInput {
  container: string;
  engine: string;
  caseId: string;
  target: { name: string; id: string };
  findings: readonly Finding[];
}

/** Groups every case's findings; groups keep the order of their first place, places the cases' order. */
export function groupFindings(cases: readonly GroupInput[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const c of cases) {
    for (const f of c.findings) {
      const key = groupKey(f, c.target);
      let g = groups.get(key);
      if (!g) {
        g = {
          rule: String(f.rule),
          title: String(f.title),
          severity: String(f.severity),
          technique: String(f.technique),
          key: key.split('\0')[1] ?? '',
          summary: String(f.summary ?? ''),
          places: [],
        };
        groups.set(key, g);
      }
      g.places.push({ container: c.container, engine: c.engine, caseId: c.caseId, finding: f });
    }
  }
  return [...groups.values()];
}
