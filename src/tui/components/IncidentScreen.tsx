import { Box, Text } from 'ink';
import { memo } from 'react';
import { cell } from '../format.js';
import { listRows, scrollTop, type Size } from '../layout.js';
import { incidentTotals, type IncidentState } from '../state/incident.js';
import { useTheme } from '../theme.js';
import { clip } from '../../util/sanitize.js';

const MARK: Record<string, string> = {
  waiting: '○',
  running: '▸',
  ok: '✔',
  failed: '✖',
  aborted: '✖',
  'not-contained': '!',
  declined: '⊘',
  incomplete: '◐',
  blocked: '✖',
};

/** A multi-target run: one line per container (step, steps done, status) and the incident's total. */
export const IncidentScreen = memo(function IncidentScreen({
  size,
  state,
}: {
  size: Size;
  state: IncidentState;
}) {
  const t = useTheme();
  const { ended, counts } = incidentTotals(state);
  const total = state.targets.length;
  const tally = Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const engines = new Set(state.targets.map((x) => x.engine)).size;
  const phase = state.phase === 'ended' ? 'ended' : state.collecting ? 'collecting' : 'containing';
  const head =
    state.phase === 'starting'
      ? `Starting ${clip(state.playbook, 30)} on the selected containers…`
      : `Incident ${clip(state.incidentId ?? '', 60)} · ${clip(state.playbook, 30)} on ${total} containers · ${phase}`;
  const height = Math.max(1, listRows(size) - 2);
  const top = scrollTop(0, 0, height, state.targets.length);
  const nameW = Math.max(12, Math.floor(size.columns * 0.35));
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {head}
      </Text>
      <Text
        wrap="truncate-end"
        color={state.phase === 'ended' ? (state.end?.exitCode ? t.bad : t.ok) : undefined}
      >
        {`Total: ${ended}/${total} done${tally ? ` (${tally})` : ''}${state.end ? ` — ${clip(state.end.message, size.columns)}` : ''}`}
      </Text>
      {state.targets.slice(top, top + height).map((x) => {
        const who = engines > 1 ? `${x.name}@${x.engine}` : x.name;
        const what =
          x.status === 'waiting'
            ? 'waiting'
            : x.status === 'running'
              ? `${x.step} (${x.done}/${state.steps})`
              : `${x.status} — ${x.message}`;
        return (
          <Text
            key={x.key}
            wrap="truncate-end"
            color={
              x.status === 'ok'
                ? t.ok
                : x.status === 'failed' || x.status === 'not-contained'
                  ? t.bad
                  : undefined
            }
          >
            {`${MARK[x.status] ?? '?'} ${cell(clip(who, nameW), nameW)} ${clip(what, Math.max(10, size.columns - nameW - 4))}`}
          </Text>
        );
      })}
      {state.phase === 'error' ? (
        <Text color={t.bad} wrap="wrap">
          {clip(state.error ?? '', size.columns * 3)}
        </Text>
      ) : null}
    </Box>
  );
});
