import { Box, Text } from 'ink';
import { memo } from 'react';
import { isContainment, statusLabel } from '../../runner/outcome.js';
import { clip, safeText } from '../../util/sanitize.js';
import { clipMiddle } from '../format.js';
import { bodyRows, type Size } from '../layout.js';
import type { RunState, StepView } from '../state/run.js';
import { useTheme, type Theme } from '../theme.js';
import { ProgressLine, Spinner } from './Progress.js';

export interface RunScreenProps {
  size: Size;
  run: RunState;
}

const MARK: Record<string, string> = {
  waiting: '○',
  confirm: '?',
  ok: '✔',
  noop: '•',
  partial: '◐',
  failed: '✖',
  skipped: '-',
  declined: '⊘',
  planned: '○',
  'not-applicable': '∅',
};

function markColor(t: Theme, state: StepView['state']): string | undefined {
  return state === 'ok'
    ? t.ok
    : state === 'failed' || state === 'declined'
      ? t.bad
      : state === 'confirm' || state === 'partial'
        ? t.warn
        : state === 'noop' ||
            state === 'skipped' ||
            state === 'waiting' ||
            state === 'not-applicable'
          ? t.muted
          : undefined;
}

/** Containment steps the responder declined: the container is not contained, whatever else goes well. */
export function declinedContainment(steps: StepView[]): StepView[] {
  return steps.filter((s) => s.state === 'declined' && isContainment(s.uses));
}

/** A finished step never changes again: memo keeps it from re-rendering on every progress tick. */
const StepLine = memo(function StepLine({ s, width }: { s: StepView; width: number }) {
  const t = useTheme();
  const idW = Math.min(18, Math.max(8, Math.floor(width / 6)));
  // Below 100 columns the action name gives way to the step's outcome (the plan and the approval
  // box name the action); a responder at 80×24 needs "5 sockets (1 established…" more.
  const usesW = width >= 100 ? Math.min(26, Math.floor(width / 4)) : 0;
  const took = s.durationMs
    ? ` ${s.durationMs < 1000 ? `${s.durationMs} ms` : `${(s.durationMs / 1000).toFixed(1)} s`}`
    : '';
  const what =
    s.state === 'waiting'
      ? s.confirm
        ? 'waiting · will ask first'
        : 'waiting'
      : s.state === 'confirm'
        ? 'waiting for your answer'
        : s.message;
  return (
    <Text wrap="truncate-end">
      {s.state === 'running' ? (
        <Spinner />
      ) : (
        <Text color={markColor(t, s.state)}>{MARK[s.state] ?? '?'}</Text>
      )}{' '}
      <Text bold>{clip(s.id, idW).padEnd(idW)}</Text>{' '}
      {usesW ? <Text color={t.muted}>{clip(s.uses, usesW).padEnd(usesW)} </Text> : null}
      <Text
        color={
          s.state === 'failed' || s.state === 'declined'
            ? t.bad
            : s.state === 'partial'
              ? t.warn
              : undefined
        }
      >
        {clip(what, width)}
      </Text>
      <Text color={t.muted}>{took}</Text>
    </Text>
  );
});

type Item = { key: string; step: StepView; kind: 'step' | 'progress' | 'warning'; text?: string };

/** The rows of the step list: each step, its progress bar while it runs, its warnings. */
export function runItems(steps: StepView[]): Item[] {
  const out: Item[] = [];
  for (const s of steps) {
    out.push({ key: s.id, step: s, kind: 'step' });
    if (s.state === 'running' && s.progress)
      out.push({ key: `${s.id}#p`, step: s, kind: 'progress' });
    s.warnings.forEach((w, i) =>
      out.push({ key: `${s.id}#w${i}`, step: s, kind: 'warning', text: w }),
    );
  }
  return out;
}

function BottomPanel({ run, width }: { run: RunState; width: number }) {
  const t = useTheme();
  if (run.confirm) {
    return (
      <Box
        flexDirection="column"
        borderStyle="round"
        borderColor={t.warn}
        width={width}
        flexShrink={0}
      >
        {/* Wrapped, not cut: "This will:" is what introduces the plan below. */}
        <Text bold color={t.warn} wrap="wrap">
          {confirmTitle(run.confirm, run.target.name)}
        </Text>
        {/* The whole plan, never clipped: it is what the responder approves. */}
        <Text wrap="wrap">{safeText(run.confirm.plan)}</Text>
        <Text bold wrap="truncate-end">
          y run · s skip{isContainment(run.confirm.uses) ? ' (stays NOT CONTAINED)' : ', go on'} ·{' '}
          <Text color={t.warn}>a / Enter stop the run (default)</Text>
        </Text>
      </Box>
    );
  }
  if (run.phase === 'error') {
    return (
      <Text color={t.bad} wrap="wrap">
        The playbook could not start: {clip(run.error ?? '', width * 3)}
      </Text>
    );
  }
  if (run.phase === 'ended' && run.end) {
    const e = run.end;
    // Failed, not contained, declined and incomplete are red: each means the playbook did not do all it says.
    const color =
      e.status === 'ok' ? t.ok : e.status === 'aborted' || e.status === 'blocked' ? t.warn : t.bad;
    return (
      <Box flexDirection="column">
        <Text bold color={color} wrap="truncate-end">
          {statusLabel(e.status)}: {clip(e.message, width)}
        </Text>
        {/* Long paths lose their middle, never the case id at their end. */}
        {run.caseDir ? (
          <Text wrap="truncate-end">case {clipMiddle(run.caseDir, width - 5)}</Text>
        ) : null}
        {e.bundle ? (
          <Text wrap="truncate-end">bundle {clipMiddle(e.bundle, width - 7)}</Text>
        ) : run.sealing ? (
          <Text color={t.accent}>Sealing what was collected…</Text>
        ) : run.sealError ? (
          <Text color={t.bad} wrap="truncate-end">
            Sealing failed: {clip(run.sealError, width)}
          </Text>
        ) : (
          <Text color={t.warn}>not sealed (no bundle): s seals what was collected</Text>
        )}
      </Box>
    );
  }
  if (run.abortRequested)
    return <Text color={t.warn}>Aborting… waiting for the current step to stop.</Text>;
  return null;
}

function confirmTitle(c: NonNullable<RunState['confirm']>, target: string): string {
  return `Approve step "${clip(c.stepId, 30)}" (${clip(c.uses, 40)}) on ${clip(target, 40)}? This will:`;
}

/** Rows the approval box needs: borders, the wrapped title and plan (word wrap may take one more each), keys. */
export function panelRows(
  confirm: NonNullable<RunState['confirm']>,
  target: string,
  width: number,
): number {
  const rows = (text: string): number => Math.ceil(text.length / Math.max(1, width - 2)) + 1;
  return 3 + rows(confirmTitle(confirm, target)) + rows(safeText(confirm.plan)) - 1;
}

/** Every step of the run with its state, live progress and warnings; approvals and the outcome below. */
export function RunScreen({ size, run }: RunScreenProps) {
  const t = useTheme();
  const width = size.columns;
  const items = runItems(run.steps);
  const panel = run.confirm
    ? panelRows(run.confirm, run.target.name, width)
    : run.phase === 'ended' || run.phase === 'error'
      ? 3
      : 1;
  // Said at once, in red, and kept on screen for the rest of the run (the end line says it after).
  const kept = run.phase === 'ended' ? [] : declinedContainment(run.steps);
  const room = Math.max(3, bodyRows(size) - 2 - panel - (kept.length ? 1 : 0));
  // Keep the step that is working (or asking) in view, with the ones after it when there is room.
  const active = items.findIndex(
    (i) => i.kind === 'step' && (i.step.state === 'running' || i.step.state === 'confirm'),
  );
  const focus = active >= 0 ? active + 2 : items.length - 1;
  const start = Math.max(0, Math.min(focus - room + 1, items.length - room));
  const head =
    run.phase === 'starting'
      ? `Starting ${clip(run.playbook, 30)} on ${clip(run.target.name, 30)}…`
      : `${run.phase === 'ended' ? 'Ran' : 'Running'} ${clip(run.playbook, 30)} on ${clip(run.target.name, 30)}${run.caseId ? ` · case ${clip(run.caseId, 60)}` : ''}`;
  return (
    <Box flexDirection="column" width={width}>
      <Text bold wrap="truncate-end">
        {head}
      </Text>
      <Box flexDirection="column" height={room} flexShrink={1} overflowY="hidden">
        {start > 0 ? <Text color={t.muted}>… {start} more above</Text> : null}
        {items.slice(start > 0 ? start + 1 : start, start + room).map((i) =>
          i.kind === 'step' ? (
            <StepLine key={i.key} s={i.step} width={width} />
          ) : i.kind === 'progress' ? (
            <ProgressLine key={i.key} p={i.step.progress!} width={width} />
          ) : (
            <Text key={i.key} color={t.warn} wrap="truncate-end">
              {'    '}! {clip(i.text ?? '', width - 6)}
            </Text>
          ),
        )}
      </Box>
      <Text> </Text>
      {kept.length ? (
        <Text bold color={t.bad} wrap="truncate-end">
          NOT CONTAINED: {clip(run.target.name, 40)} — declined{' '}
          {kept.map((s) => `${clip(s.id, 20)} (${s.uses})`).join(', ')}
        </Text>
      ) : null}
      <BottomPanel run={run} width={width} />
    </Box>
  );
}
