import type { Screen } from './state/actions.js';
import type { RunState } from './state/run.js';

const COMMON: [string, string][] = [
  ['?', 'show / hide these keys'],
  ['q  Esc', 'back; on the first screen q quits (Esc does not)'],
  ['Ctrl-C', 'abort the running playbook, or quit (asks first)'],
];

const MOVE: [string, string][] = [
  ['↑ ↓  k j', 'move'],
  ['PgUp PgDn  Space', 'page'],
  ['g G  Home End', 'first / last'],
];

/** The keys of each screen, shown by `?` and summarised in the footer. */
export const HELP: Record<Screen, { title: string; keys: [string, string][]; hint: string }> = {
  containers: {
    title: 'Containers',
    keys: [
      // Space selects here instead of paging.
      ...MOVE.map(([k, v]): [string, string] => [k.replace('  Space', ''), v]),
      ['type / or a name', 'filter the list (Esc clears)'],
      ['Space', 'select / unselect (several: one run on all)'],
      ['Enter', 'pick a playbook for the container or the selection'],
      ...COMMON,
    ],
    hint: 'Enter playbooks · Space select · / filter · ? keys · q quit',
  },
  playbooks: {
    title: 'Playbooks',
    keys: [
      ...MOVE,
      ['Enter', 'run the selected playbook (asks y/N after showing the plan)'],
      ['d', 'at that y/N: case details (title, ticket, numbers, examiner)'],
      ...COMMON,
    ],
    hint: 'Enter run… · ? keys · q back',
  },
  run: {
    title: 'Run',
    keys: [
      ['y', 'run the step that asks (shows exactly what will change)'],
      ['s (asked)', 'skip it and go on: declined (containment: NOT CONTAINED)'],
      ['a  Enter  Esc', 'stop the run there (the default); the seal still runs'],
      ['s (ended)', 'seal what was collected, when the run left no bundle'],
      ['c', 'open the case (when the run has ended)'],
      ['t', 'open the timeline (when the run has ended)'],
      ...COMMON,
    ],
    hint: 'Ctrl-C abort · c case · t timeline · ? keys',
  },
  incident: {
    title: 'Incident',
    keys: [...COMMON],
    hint: 'Ctrl-C abort · ? keys · q back (when it has ended)',
  },
  case: {
    title: 'Case',
    keys: [
      ...MOVE,
      ['v', 'verify the sealed bundle'],
      ['t', 'open the timeline'],
      ['r', 'release its containment (shows what changes, asks y/N)'],
      ...COMMON,
    ],
    hint: 'v verify · t timeline · r release · ? keys · q back',
  },
  timeline: {
    title: 'Timeline',
    keys: [
      ...MOVE,
      ['/', 'search message, source, reference (Enter runs; empty clears)'],
      ['s', 'next source filter (all → each source → all)'],
      ['x', 'clear search and source filter'],
      ['@  :', 'jump to a time (UTC): 2024-05-01T12:00:00Z, 12:00 (latest day)'],
      ['◆', 'marks events that findings point at'],
      ...COMMON,
    ],
    hint: '/ search · s source · @ time · ? keys · q back',
  },
};

/** The footer's key summary; the Run screen's depends on where the run is. */
export function hintFor(screen: Screen, run: RunState): string {
  if (screen !== 'run') return HELP[screen].hint;
  if (run.confirm) return 'y run · s skip · a / Enter stop the run · Ctrl-C abort';
  if (run.phase === 'ended' && run.caseDir)
    return `${run.end?.bundle ? '' : 's seal · '}c case · t timeline · q back · ? keys`;
  if (run.phase === 'ended') return 'q back · ? keys';
  if (run.phase === 'error') return 'q back · ? keys';
  return 'Ctrl-C abort · ? keys';
}
