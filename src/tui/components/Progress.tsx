import { Text } from 'ink';
import { useEffect, useState } from 'react';
import { humanBytes } from '../../util/format.js';
import { clip } from '../../util/sanitize.js';
import { bar, duration, rate } from '../format.js';
import type { StepProgress } from '../state/run.js';
import { useTheme } from '../theme.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** A spinner that animates itself; only this small node re-renders on each tick. */
export function Spinner() {
  const t = useTheme();
  const [i, setI] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setI((n) => (n + 1) % FRAMES.length), 100);
    return () => clearInterval(timer);
  }, []);
  return <Text color={t.accent}>{FRAMES[i]}</Text>;
}

/** `████░░░░ 12.0 MiB / 40.0 MiB  3.1 MiB/s  ETA 9s` (no bar when the total is unknown). */
export function ProgressLine({ p, width }: { p: StepProgress; width: number }) {
  const t = useTheme();
  const known = p.totalBytes !== undefined && p.totalBytes > 0;
  const amount = known
    ? `${humanBytes(p.bytes)} / ${humanBytes(p.totalBytes!)}`
    : humanBytes(p.bytes);
  const tail = [amount, rate(p.rate), p.eta !== undefined ? `ETA ${duration(p.eta)}` : '']
    .filter(Boolean)
    .join('  ');
  const barWidth = Math.max(8, Math.min(30, width - tail.length - 8));
  return (
    <Text wrap="truncate-end">
      {'    '}
      {known ? <Text color={t.accent}>{bar(p.bytes / p.totalBytes!, barWidth)} </Text> : null}
      {tail}
      {p.message ? (
        <Text color={t.muted}>
          {' '}
          {clip(p.message, Math.max(10, width - tail.length - barWidth - 8))}
        </Text>
      ) : null}
    </Text>
  );
}
