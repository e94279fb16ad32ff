import { Box, Text } from 'ink';
import { memo } from 'react';
import { cell, clipMiddle } from '../format.js';
import { listRows, scrollTop, type Size } from '../layout.js';
import type { ContainerRow } from '../types.js';
import { useTheme } from '../theme.js';
import { clip } from '../../util/sanitize.js';

export interface ContainersScreenProps {
  size: Size;
  status: 'loading' | 'ready' | 'error';
  error?: string;
  rows: ContainerRow[];
  total: number;
  filter: string;
  selected: number;
  /** Ids selected with Space. */
  picked?: string[];
}

const STATE_MARK: Record<string, string> = {
  running: '●',
  paused: '‖',
  exited: '○',
  created: '·',
  restarting: '↻',
  dead: '✖',
};

function Facts({ c, width }: { c: ContainerRow; width: number }) {
  const t = useTheme();
  const w = Math.max(10, width - 10);
  const line = (k: string, v: string, color?: string) => (
    <Text wrap="truncate-end" key={k}>
      <Text color={t.muted}>{k.padEnd(9)} </Text>
      <Text color={color}>{clip(v, w)}</Text>
    </Text>
  );
  return (
    <Box flexDirection="column" width={width} paddingLeft={1}>
      <Text bold wrap="truncate-end">
        {clip(c.name, width - 2)}
      </Text>
      {line('id', c.id.slice(0, 12))}
      {line('image', c.image)}
      {line(
        'state',
        `${c.state} · ${c.status}`,
        c.state === 'running' ? t.ok : c.state === 'paused' ? t.warn : undefined,
      )}
      {line(
        'created',
        new Date(c.created * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC',
      )}
      {c.networks.length
        ? c.networks.map((n, i) => line(i ? '' : 'networks', `${n.name} ${n.ip}`.trim()))
        : line('networks', '(none)')}
      {line('ports', c.ports.join(', ') || '-')}
      {line('command', c.command)}
      {c.quarantinedBy ? line('QUARANTINE', `by case ${c.quarantinedBy}`, t.warn) : null}
      {c.egressBy?.map((k, i) => line(i ? '' : 'EGRESS', `restricted (case ${k})`, t.warn))}
      {!c.quarantinedBy && !c.egressBy?.length ? line('contained', 'no') : null}
    </Box>
  );
}

/** The live container list with a filter, and the selected container's key facts beside it. */
export const ContainersScreen = memo(function ContainersScreen({
  size,
  status,
  error,
  rows,
  total,
  filter,
  selected,
  picked = [],
}: ContainersScreenProps) {
  const t = useTheme();
  // The facts pane takes ~40% (36–60 columns); the list's name column gets what is left, and the
  // image and networks columns are added only while the name keeps at least 24 columns.
  const factsWidth = Math.max(36, Math.min(60, Math.floor(size.columns * 0.4)));
  const listWidth = size.columns - factsWidth;
  const height = listRows(size);
  const top = scrollTop(Math.max(0, selected - height + 2), selected, height - 1, rows.length);
  const fixed = 2 + 9 + 15;
  const extra = (listWidth - fixed - 24 >= 38 ? 2 : listWidth - fixed - 24 >= 19 ? 1 : 0) as
    0 | 1 | 2;
  const nameW = Math.max(10, listWidth - fixed - extra * 19 - 1);
  const columns = (
    name: string,
    state: string,
    uptime: string,
    image: string,
    nets: string,
  ): string =>
    [
      cell(name, nameW),
      cell(state, 8),
      cell(uptime, 14),
      ...(extra >= 1 ? [cell(image, 18)] : []),
      ...(extra >= 2 ? [cell(nets, 18)] : []),
    ].join(' ');
  const head = `  ${columns('NAME', 'STATE', 'UPTIME', 'IMAGE', 'NETWORKS')}`;
  const title =
    status === 'loading'
      ? 'Connecting to the engine…'
      : filter
        ? `${rows.length} of ${total} containers match "${clip(filter, 30)}"`
        : `${total} container${total === 1 ? '' : 's'}`;
  const chosen = picked.length
    ? ` · ${picked.length} selected (Enter: one playbook on all of them)`
    : '';
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end" color={error ? t.bad : undefined}>
        {error ? clip(error, size.columns) : `${title}${chosen}`}
      </Text>
      <Box flexDirection="row">
        <Box flexDirection="column" width={listWidth}>
          <Text color={t.muted} wrap="truncate-end">
            {head}
          </Text>
          {rows.slice(top, top + height - 1).map((r, i) => {
            const sel = top + i === selected;
            // Names are clipped in the middle (their distinguishing end stays); the quarantine mark
            // must survive a long name, so the name is clipped to leave room for it.
            const mark = r.quarantinedBy ? ' [Q]' : r.egressBy?.length ? ' [E]' : '';
            const name = mark
              ? `${clipMiddle(r.name, nameW - 4)}${mark}`
              : clipMiddle(r.name, nameW);
            const text = columns(
              name,
              r.state,
              r.status,
              r.image,
              r.networks.map((n) => n.name).join(','),
            );
            return (
              <Text
                key={r.id}
                inverse={sel}
                wrap="truncate-end"
                color={r.quarantinedBy || r.egressBy?.length ? t.warn : undefined}
              >
                {sel ? '›' : ' '}
                {/* A container selected with Space shows ✓ where its state mark was. */}
                {picked.includes(r.id) ? '✓' : (STATE_MARK[r.state] ?? '?')}
                {text}
              </Text>
            );
          })}
          {status === 'ready' && !rows.length ? (
            <Text color={t.muted}>
              {filter ? '  nothing matches: Esc clears the filter' : '  no containers'}
            </Text>
          ) : null}
          {/* Nothing listed because of the error: the whole of it, hint included, wrapped. */}
          {status === 'error' && error ? (
            <Text color={t.bad} wrap="wrap">
              {clip(error, listWidth * (height - 2))}
            </Text>
          ) : null}
        </Box>
        {rows[selected] ? <Facts c={rows[selected]} width={factsWidth} /> : null}
      </Box>
    </Box>
  );
});
