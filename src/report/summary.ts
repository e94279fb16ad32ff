import type { ReportInput } from './markdown.js';

/** How many findings and gaps the first screen shows (the sections below list them all). */
export const TOP_FINDINGS = 5;
export const TOP_GAPS = 5;

/** One line under the title: the container, its image and the case's status. */
export function statusLine(r: ReportInput): string {
  const t = r.info.target;
  const last = r.info.runs.at(-1);
  return `Container ${t.name} (${t.id.slice(0, 12)}), image ${t.image}; ${r.info.runs.length} run(s)${last ? `, the last: ${last.playbook} (${last.status ?? (r.duringRun ? 'sealed by its last step' : 'unfinished')})` : ''}; sealed ${r.sealedAt}.`;
}

/** An artifact's source with the container's 64-hex id cut to 12 (the full id is printed once). */
export function shortSource(source: string, id: string): string {
  const s = id && id.length > 12 ? source.split(id).join(`${id.slice(0, 12)}…`) : source;
  return s;
}
