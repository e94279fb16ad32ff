import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { HELP } from '../help.js';
import { META_LABELS } from '../keymap.js';
import { bodyRows, frameRows, type Size } from '../layout.js';
import type { InputField, Prompt, Screen } from '../state/actions.js';
import { useTheme } from '../theme.js';
import { clip } from '../../util/sanitize.js';

const LABEL: Record<InputField['kind'], string> = {
  filter: 'filter',
  search: 'search',
  time: 'jump to time',
  meta: 'case',
};

export interface FrameProps {
  size: Size;
  stack: Screen[];
  input: InputField | null;
  message: string | null;
  prompt: Prompt | null;
  /** The footer's key summary when nothing else is shown there. */
  hint: string;
  children: ReactNode;
}

function promptText(p: Prompt): string {
  switch (p.kind) {
    case 'quit':
      return 'Quit cirt? [y/N]';
    case 'abort':
      return 'Abort the running playbook? [y/N] What was collected is kept and can be sealed.';
    case 'start': {
      const changes = p.playbook.steps.filter((s) => s.mutates).length;
      const asks = p.playbook.steps.filter((s) => s.confirm).length;
      // [y/N] before the details: a narrow terminal truncates the end of the line.
      const details = Object.values(p.meta ?? {}).filter(Boolean).length;
      return `Run ${clip(p.playbook.name, 30)} on ${clip(p.target.name, 30)}? [y/N] ${changes} step(s) change it, ${asks} ask first · d: case details (${details} set)`;
    }
    case 'start-many': {
      // One approval for the whole set: y approves every step that asks, on every container listed.
      const asks = p.playbook.steps.filter((s) => s.confirm).length;
      const names = p.targets.map((t) => clip(t.name, 24)).join(', ');
      return `Run ${clip(p.playbook.name, 30)} on ${p.targets.length} containers? [y/N] y approves its ${asks} asking step(s) on all of them: ${names}`;
    }
    case 'release':
      // The plan itself is on the Case screen above; the footer keeps the question first.
      return `Release case ${clip(p.caseId, 40)}? [y/N] (what changes is listed above)`;
  }
}

/** Header (where you are), a fixed-height body, and one footer line (prompt, input, message or keys). */
export function Frame({ size, stack, input, message, prompt, hint, children }: FrameProps) {
  const t = useTheme();
  const crumbs = stack.map((s) => HELP[s].title).join(' › ');
  const right = '? keys';
  const left = `cirt › ${crumbs}`;
  const pad = Math.max(1, size.columns - left.length - right.length);
  let footer: ReactNode;
  if (prompt) {
    footer = (
      <Text color={t.warn} bold wrap="truncate-end">
        {promptText(prompt)}
      </Text>
    );
  } else if (input) {
    footer = (
      <Text wrap="truncate-end">
        <Text color={t.accent}>
          {input.kind === 'meta'
            ? `${META_LABELS[input.key]} (Enter: next, Esc: done)`
            : LABEL[input.kind]}
          :{' '}
        </Text>
        {clip(input.text, size.columns - 20)}
        <Text inverse> </Text>
        <Text color={t.muted}> Enter ok · Esc cancel</Text>
      </Text>
    );
  } else if (message) {
    footer = <Text wrap="truncate-end">{clip(message, size.columns)}</Text>;
  } else {
    footer = (
      <Text color={t.muted} dimColor={!t.color} wrap="truncate-end">
        {hint}
      </Text>
    );
  }
  return (
    <Box flexDirection="column" width={size.columns} height={frameRows(size)}>
      <Text bold wrap="truncate-end">
        <Text color={t.accent}>{left}</Text>
        {' '.repeat(pad)}
        <Text color={t.muted}>{right}</Text>
      </Text>
      <Box flexDirection="column" height={bodyRows(size)} overflowY="hidden">
        {children}
      </Box>
      {footer}
    </Box>
  );
}
