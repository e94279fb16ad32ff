import { Box, Text } from 'ink';
import { clip } from '../../util/sanitize.js';

/** One step waiting for a human, as the service lists it (src/serve/approvals.ts PendingItem). */
export interface PendingRow {
  id: string;
  rule: string;
  caseId: string | null;
  container: { id: string; name: string };
  step: { id: string; uses: string; plan: string };
  since: string;
  expiresAt: string;
}

/** The Pending screen: what `cirt serve` waits on a human for. Props only; the root drives it. */
export function PendingScreen(p: {
  items: PendingRow[];
  selected: number;
  message: string;
  width: number;
  now: number;
}) {
  const w = Math.max(40, p.width);
  return (
    <Box flexDirection="column">
      <Text bold>Pending approvals ({p.items.length})</Text>
      {p.items.length === 0 ? <Text>Nothing is waiting for approval.</Text> : null}
      {p.items.map((it, i) => {
        const left = Math.max(0, Math.round((Date.parse(it.expiresAt) - p.now) / 1000));
        const mark = i === p.selected ? '›' : ' ';
        return (
          <Box key={it.id} flexDirection="column">
            <Text inverse={i === p.selected}>
              {clip(
                `${mark} ${it.id}  ${it.container.name} (${it.container.id.slice(0, 12)})  ${it.step.id} ${it.step.uses}  default in ${left}s`,
                w,
              )}
            </Text>
            <Text>
              {clip(`    ${it.step.plan}  · rule "${it.rule}" · case ${it.caseId ?? '-'}`, w)}
            </Text>
          </Box>
        );
      })}
      <Text>{clip(p.message, w)}</Text>
      <Text dimColor>↑/↓ choose · a approve · r reject · q quit</Text>
    </Box>
  );
}
