import { Box, Text } from 'ink';
import { HELP } from '../help.js';
import type { Screen } from '../state/actions.js';
import { useTheme } from '../theme.js';

export interface HelpOverlayProps {
  screen: Screen;
  width: number;
}

/** The keys of the current screen; any of ? q Esc closes it. */
export function HelpOverlay({ screen, width }: HelpOverlayProps) {
  const t = useTheme();
  const h = HELP[screen];
  const keyWidth = Math.min(20, Math.max(...h.keys.map(([k]) => k.length)) + 2);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold color={t.accent}>
        Keys · {h.title}
      </Text>
      {h.keys.map(([k, what]) => (
        <Text key={k} wrap="truncate-end">
          <Text bold>{k.padEnd(keyWidth)}</Text>
          {what}
        </Text>
      ))}
      <Text color={t.muted}>(? q Esc close this)</Text>
    </Box>
  );
}
