/** The formats `cirt timeline --format` takes (apart, so the command tree needs no timeline code). */
export const TIMELINE_FORMATS = ['table', 'jsonl', 'csv', 'bodyfile'] as const;
export type TimelineFormat = (typeof TIMELINE_FORMATS)[number];
