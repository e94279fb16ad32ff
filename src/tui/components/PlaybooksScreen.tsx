import { Box, Text } from 'ink';
import type { PlannedStep } from '../../runner/events.js';
import { bodyRows, type Size } from '../layout.js';
import type { PlaybookEntry } from '../types.js';
import { useTheme } from '../theme.js';
import { clip } from '../../util/sanitize.js';

export interface PlaybooksScreenProps {
  size: Size;
  status: 'idle' | 'loading' | 'ready' | 'error';
  error?: string;
  target: string;
  entries: PlaybookEntry[];
  cursor: number;
}

/** One step of the plan: what it is, whether it changes the container, whether it asks, what it does. */
export function PlanStep({
  step,
  index,
  width,
  compact,
  idWidth = 16,
}: {
  step: PlannedStep;
  index: number;
  width: number;
  compact?: boolean;
  idWidth?: number;
}) {
  const t = useTheme();
  if (compact) {
    // One line per step when the plan would not fit otherwise: the ids padded to one width so the
    // ✎ (changes the container) and ? (asks first) flags line up in a column, the plan text after.
    return (
      <Text wrap="truncate-end">
        {String(index + 1).padStart(2)}. <Text bold>{clip(step.id, idWidth).padEnd(idWidth)}</Text>
        {step.mutates ? <Text color={t.warn}> ✎</Text> : <Text color={t.ok}> ·</Text>}
        {step.confirm ? <Text color={t.warn}>?</Text> : ' '}{' '}
        <Text color={t.muted}>{clip(step.plan, Math.max(10, width - idWidth - 9))}</Text>
      </Text>
    );
  }
  return (
    <Box flexDirection="column">
      <Text wrap="truncate-end">
        {String(index + 1).padStart(2)}. <Text bold>{clip(step.id, 20)}</Text>{' '}
        <Text color={t.muted}>{clip(step.uses, 40)}</Text>
        {step.mutates ? (
          <Text color={t.warn}> ✎ changes the container</Text>
        ) : (
          <Text color={t.ok}> read-only</Text>
        )}
        {step.confirm ? <Text color={t.warn}> · asks y/N</Text> : null}
      </Text>
      <Box paddingLeft={4}>
        <Text wrap="wrap" color={t.muted}>
          {clip(step.plan, (width - 4) * 3)}
        </Text>
      </Box>
    </Box>
  );
}

/** The shipped and local playbooks; the highlighted one's description and plan below the list. */
export function PlaybooksScreen({
  size,
  status,
  error,
  target,
  entries,
  cursor,
}: PlaybooksScreenProps) {
  const t = useTheme();
  if (status === 'loading') return <Text>Loading playbooks…</Text>;
  if (status === 'error')
    return <Text color={t.bad}>Cannot list playbooks: {clip(error ?? '', size.columns)}</Text>;
  if (!entries.length) return <Text>No playbooks found in ./playbooks or the shipped ones.</Text>;
  const listHeight = Math.min(entries.length, Math.max(2, Math.floor(bodyRows(size) / 4)));
  const top = Math.max(0, Math.min(cursor - listHeight + 1, entries.length - listHeight));
  const sel = entries[cursor];
  const room = Math.max(2, bodyRows(size) - listHeight - 5);
  // Full plan text when it fits; otherwise one line per step.
  const needed = (sel?.steps ?? []).reduce(
    (n, st) => n + 1 + Math.min(3, Math.ceil(st.plan.length / Math.max(1, size.columns - 4))),
    0,
  );
  const compact = needed > room - 1;
  const planRoom = compact ? room - 1 : (sel?.steps.length ?? 0);
  const idWidth = Math.min(16, Math.max(4, ...(sel?.steps ?? []).map((st) => st.id.length)));
  return (
    <Box flexDirection="column" width={size.columns}>
      <Text wrap="truncate-end">
        Playbooks for <Text bold>{clip(target, 40)}</Text>
      </Text>
      {entries.slice(Math.max(0, top), Math.max(0, top) + listHeight).map((e, i) => {
        const on = Math.max(0, top) + i === cursor;
        return (
          <Text key={e.file} inverse={on} wrap="truncate-end">
            {on ? '›' : ' '} {clip(e.name, 28).padEnd(28)} <Text color={t.muted}>{e.origin}</Text>
            {e.problem ? (
              <Text color={t.bad}> ✖ has problems</Text>
            ) : (
              <Text color={t.muted}> {e.steps.length} steps</Text>
            )}
          </Text>
        );
      })}
      <Text> </Text>
      {sel ? (
        <Box flexDirection="column">
          <Text wrap="truncate-end" color={t.muted}>
            {clip(sel.file, size.columns)}
          </Text>
          <Text wrap="truncate-end">
            {clip(sel.description.replace(/\s+/g, ' '), size.columns * 2)}
          </Text>
          {sel.problem ? (
            <Text color={t.bad} wrap="wrap">
              {clip(sel.problem, size.columns * 3)}
            </Text>
          ) : (
            <Box flexDirection="column">
              {/* The legend before the reassurance: at 80 columns the end of this line is cut. */}
              <Text bold wrap="truncate-end">
                Plan on {clip(target, 32)}
                {compact ? <Text color={t.warn}> · ✎ changes it · ? asks first</Text> : null} ·
                nothing runs until you confirm:
              </Text>
              {sel.steps.slice(0, planRoom).map((s, i) => (
                <PlanStep
                  key={s.id}
                  step={s}
                  index={i}
                  width={size.columns}
                  compact={compact}
                  idWidth={idWidth}
                />
              ))}
              {sel.steps.length > planRoom ? (
                <Text color={t.muted}>… and {sel.steps.length - planRoom} more steps</Text>
              ) : null}
            </Box>
          )}
        </Box>
      ) : null}
    </Box>
  );
}
