import { Box, Text } from 'ink';
import { clip } from '../../util/sanitize.js';
import { cell, shortTime } from '../format.js';
import { timelineLayout, type Size } from '../layout.js';
import { viewCount, type TimelineState } from '../state/timeline.js';
import { useTheme } from '../theme.js';
import type { TimelineEvent } from '../types.js';

/** One visible row: its index in the view and the event read for it. */
export interface TimelineRow {
  index: number;
  event: TimelineEvent;
}

export interface TimelineScreenProps {
  size: Size;
  state: TimelineState;
  rows: TimelineRow[];
  selected?: TimelineEvent;
}

function refText(e: TimelineEvent): string {
  if (!e.ref || typeof e.ref !== 'object') return '(no evidence reference)';
  const at =
    e.ref.line !== undefined
      ? ` line ${e.ref.line}`
      : e.ref.entry !== undefined
        ? ` entry ${e.ref.entry}`
        : '';
  const field = (e.ref as { field?: unknown }).field;
  return `${e.ref.artifact ?? '?'}${at}${typeof field === 'string' ? ` (${field})` : ''}`;
}

function Detail({
  e,
  lit,
  width,
  rows,
}: {
  e?: TimelineEvent;
  lit: boolean;
  width: number;
  rows: number;
}) {
  const t = useTheme();
  if (!e) return <Text color={t.muted}>No event selected.</Text>;
  const attrs = e.attrs && Object.keys(e.attrs).length ? JSON.stringify(e.attrs) : '';
  const msgRows = Math.max(1, rows - 4 - (attrs ? 1 : 0));
  return (
    <Box flexDirection="column" width={width} height={rows} overflowY="hidden">
      <Text wrap="truncate-end">
        <Text bold>{clip(String(e.datetime ?? ''), 40)}</Text>{' '}
        <Text color={t.muted}>{clip(String(e.timestamp_desc ?? ''), 40)}</Text>
        {lit ? <Text color={t.highlight}> ◆ finding</Text> : null}
      </Text>
      <Text wrap="truncate-end" color={t.muted}>
        source {clip(String(e.source ?? '?'), 20)} · kind {clip(String(e.kind ?? '-'), 24)} · actor{' '}
        {clip(String(e.actor ?? '-'), 12)}
      </Text>
      <Box height={msgRows} overflowY="hidden">
        <Text wrap="wrap">{clip(String(e.message ?? ''), width * msgRows)}</Text>
      </Box>
      <Text wrap="truncate-end">
        <Text color={t.accent}>evidence </Text>
        {clip(refText(e), width - 30)}{' '}
        <Text color={t.muted}>id {clip(String(e.id ?? ''), 60)}</Text>
      </Text>
      {attrs ? (
        <Text wrap="truncate-end" color={t.muted}>
          {clip(attrs, width)}
        </Text>
      ) : null}
    </Box>
  );
}

/** A virtual list over the whole timeline (only the visible rows exist) and the selected event's detail. */
export function TimelineScreen({ size, state: s, rows, selected }: TimelineScreenProps) {
  const t = useTheme();
  const w = size.columns;
  const { listRows, detailRows } = timelineLayout(size);
  const count = viewCount(s);
  if (s.status === 'error')
    return <Text color={t.bad}>{clip(s.error ?? 'cannot read the timeline', w * 3)}</Text>;
  const filters = [
    s.source ? `source ${clip(s.source, 16)}` : 'all sources',
    s.query ? `"${clip(s.query, 24)}"` : '',
  ]
    .filter(Boolean)
    .join(' · ');
  const position = count
    ? `${(s.cursor + 1).toLocaleString('en-US')}/${count.toLocaleString('en-US')}`
    : '0';
  const state =
    s.status === 'indexing'
      ? ` · indexing ${s.total.toLocaleString('en-US')} lines…`
      : s.searching
        ? ' · searching…'
        : '';
  const timeW = w >= 100 ? 26 : 19;
  const srcW = Math.min(10, Math.max(6, ...s.sources.map((x) => x.length)));
  const msgW = Math.max(10, w - timeW - srcW - 4);
  return (
    <Box flexDirection="column" width={w}>
      <Text wrap="truncate-end">
        <Text bold>{position}</Text>{' '}
        {s.lines ? `matching of ${s.total.toLocaleString('en-US')}` : 'events'} · {filters}
        <Text color={t.accent}>{state}</Text>
      </Text>
      <Box flexDirection="column" height={listRows} overflowY="hidden">
        {rows.map(({ index, event: e }) => {
          const on = index === s.cursor;
          const lit = s.highlights.has(e.id);
          return (
            <Text
              key={index}
              inverse={on}
              wrap="truncate-end"
              color={lit ? t.highlight : undefined}
              bold={lit}
            >
              {on ? '›' : ' '}
              {lit ? '◆' : ' '}
              {cell(shortTime(e.datetime, e.timestamp).slice(0, timeW), timeW)}{' '}
              {cell(String(e.source ?? '?'), srcW)} {clip(String(e.message ?? ''), msgW)}
            </Text>
          );
        })}
        {!rows.length && s.status === 'ready' ? (
          <Text color={t.muted}>
            {s.searching
              ? '  searching…'
              : s.lines
                ? '  nothing matches (x clears the filter)'
                : '  the timeline is empty'}
          </Text>
        ) : null}
      </Box>
      <Text color={t.muted}>{'─'.repeat(Math.max(0, w))}</Text>
      <Detail
        e={selected}
        lit={Boolean(selected && s.highlights.has(selected.id))}
        width={w}
        rows={detailRows}
      />
    </Box>
  );
}
