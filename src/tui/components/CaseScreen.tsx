import { Box, Text } from 'ink';
import { humanBytes } from '../../util/format.js';
import { clip } from '../../util/sanitize.js';
import { cell, clipMiddle } from '../format.js';
import { bodyRows, scrollTop, type Size } from '../layout.js';
import type { CaseState } from '../state/reducer.js';
import { severityColor, useTheme } from '../theme.js';

const KEY_SOURCE: Record<string, string> = {
  kept: 'your kept key',
  provided: '--sign-key',
  generated: 'made for the case',
};

export interface CaseScreenProps {
  size: Size;
  state: CaseState;
  /** While the release question is open: what it will change (app/release-plan.ts describePlan). */
  releasePlan?: string[];
}

/** The case at a glance: bundle and its hash, findings by severity, every artifact with size and hash. */
export function CaseScreen({ size, state, releasePlan }: CaseScreenProps) {
  const t = useTheme();
  const w = size.columns;
  if (state.status === 'loading' || state.status === 'idle') return <Text>Reading the case…</Text>;
  if (state.status === 'error' || !state.data)
    return <Text color={t.bad}>Cannot read the case: {clip(state.error ?? '', w * 2)}</Text>;
  const d = state.data;
  const counts = new Map<string, number>();
  for (const f of d.findings)
    counts.set(String(f.severity), (counts.get(String(f.severity)) ?? 0) + 1);
  const findingRows = Math.min(d.findings.length, Math.max(2, Math.floor(bodyRows(size) / 3)));
  const verifyLines = state.verify
    ? Math.min(5, state.verify.lines.length) + 1
    : state.verifying
      ? 1
      : 0;
  const held = d.containment ?? [];
  const releaseLines = releasePlan
    ? releasePlan.length
    : state.releasing || state.released || held.length
      ? 1
      : 0;
  const artRows = Math.max(
    2,
    bodyRows(size) -
      (d.bundle ? 6 : 5) -
      (d.key ? 1 : 0) -
      findingRows -
      verifyLines -
      releaseLines -
      (d.notes.length ? 1 : 0),
  );
  const top = scrollTop(
    Math.max(0, state.cursor - artRows + 1),
    state.cursor,
    artRows,
    d.artifacts.length,
  );
  // marker + path + bytes(10) + hash prefix(13) + room for " INCOMPLETE" (11), spaces between.
  const pathW = Math.max(20, w - 37);
  return (
    <Box flexDirection="column" width={w}>
      <Text wrap="truncate-end">
        <Text bold>Case {clip(d.id, 60)}</Text> · {clip(d.status, 12)} · target {clip(d.target, 40)}
      </Text>
      {d.bundle ? (
        <Box flexDirection="column">
          {/* The path wins over the "(v verifies)" reminder (the footer has it); a path too long for
              the line loses its middle, never the bundle's file name. */}
          <Text wrap="truncate-end">
            Bundle <Text bold>{clipMiddle(d.bundle.path, w - 7)}</Text>
            {d.bundle.path.length <= w - 20 ? <Text color={t.muted}> (v verifies)</Text> : null}
          </Text>
          <Text wrap="truncate-end">
            sha256 {d.bundle.sha256 ?? <Text color={t.warn}>(no .sha256 file beside it)</Text>}
          </Text>
        </Box>
      ) : (
        <Text color={t.warn}>Not sealed yet: no bundle beside the case folder.</Text>
      )}
      {d.key ? (
        // The whole fingerprint, first on its line: a prefix is what a forger would match.
        <Text wrap="truncate-end">
          key {d.key.fingerprint}{' '}
          <Text color={t.muted}>
            ({KEY_SOURCE[d.key.source] ?? d.key.source}
            {d.key.tsa ? ', RFC 3161 time' : ', host clock'})
          </Text>
        </Text>
      ) : null}
      {releasePlan ? (
        <Box flexDirection="column">
          {releasePlan.map((l, i) => (
            <Text
              key={i}
              color={l.includes('!') ? t.bad : t.warn}
              bold={i === 0}
              wrap="truncate-end"
            >
              {clip(l, w)}
            </Text>
          ))}
        </Box>
      ) : state.releasing ? (
        <Text color={t.accent}>Releasing…</Text>
      ) : state.released ? (
        <Text color={state.released.ok ? t.ok : t.bad} wrap="truncate-end">
          {state.released.ok ? '✔ ' : '✖ '}
          {clip(state.released.line, w - 2)}
        </Text>
      ) : held.length ? (
        <Text color={t.warn} wrap="truncate-end">
          Containment in force: {clip(held.join(', '), w - 40)}{' '}
          <Text color={t.muted}>(r releases)</Text>
        </Text>
      ) : null}
      {state.verifying ? <Text color={t.accent}>Verifying the bundle…</Text> : null}
      {state.verify ? (
        <Box flexDirection="column">
          <Text bold color={state.verify.ok ? t.ok : t.bad}>
            {state.verify.ok ? '✔ bundle verified' : '✖ bundle did NOT verify'}
          </Text>
          {state.verify.lines.slice(0, 5).map((l, i) => (
            <Text key={i} wrap="truncate-end">
              {'  '}
              {clip(l, w - 2)}
            </Text>
          ))}
        </Box>
      ) : null}
      <Text bold wrap="truncate-end">
        Findings ({d.findings.length}){' '}
        {[...counts].map(([sev, n]) => (
          <Text key={sev} color={severityColor(t, sev)}>
            {clip(sev, 12)} {n}
            {'  '}
          </Text>
        ))}
      </Text>
      {d.findings.slice(0, findingRows).map((f) => (
        <Text key={f.id} wrap="truncate-end">
          <Text color={severityColor(t, String(f.severity))}>■ {cell(String(f.severity), 8)}</Text>{' '}
          {clip(f.title, w - 30)} <Text color={t.muted}>{clip(f.technique ?? '', 12)}</Text>
        </Text>
      ))}
      {d.findings.length > findingRows ? (
        <Text color={t.muted}> … {d.findings.length - findingRows} more (see report.md)</Text>
      ) : null}
      <Text bold wrap="truncate-end">
        Artifacts ({d.artifacts.length}){' '}
        <Text color={t.muted}>{cell('', Math.max(0, pathW - 13))} bytes sha256</Text>
      </Text>
      {d.artifacts.slice(top, top + artRows).map((a, i) => {
        const on = top + i === state.cursor;
        return (
          <Text key={a.path} inverse={on} wrap="truncate-end">
            {on ? '›' : ' '}
            {cell(a.path, pathW)} {humanBytes(a.bytes).padStart(10)}{' '}
            {clip(a.sha256.slice(0, 12), 12)}…
            {a.complete ? '' : <Text color={t.bad}> INCOMPLETE</Text>}
          </Text>
        );
      })}
      {d.notes.length ? (
        <Text color={t.muted} wrap="truncate-end">
          note: {clip(d.notes.join('; '), w - 6)}
        </Text>
      ) : null}
    </Box>
  );
}
