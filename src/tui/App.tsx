import { useApp } from 'ink';
import { useEffect } from 'react';
import { EXIT } from '../errors.js';
import { CaseScreen } from './components/CaseScreen.js';
import { ContainersScreen } from './components/ContainersScreen.js';
import { Frame } from './components/Frame.js';
import { HelpOverlay } from './components/HelpOverlay.js';
import { PlaybooksScreen } from './components/PlaybooksScreen.js';
import { IncidentScreen } from './components/IncidentScreen.js';
import { RunScreen } from './components/RunScreen.js';
import { TimelineScreen } from './components/TimelineScreen.js';
import { hintFor } from './help.js';
import { useTui } from './hooks/use-tui.js';
import type { TuiServices } from './services.js';
import type { TuiAction } from './state/actions.js';
import { selectedIndex, visibleContainers } from './state/lists.js';
import { screenOf, type TuiState } from './state/reducer.js';
import { ThemeContext, type Theme } from './theme.js';

export interface AppProps {
  services: TuiServices;
  initial: TuiState;
  theme: Theme;
  /** Tests pin the size; the real terminal's size follows resize events. */
  fixedSize?: boolean;
  /** Aborted on SIGINT/SIGTERM from outside the terminal. */
  signal?: AbortSignal;
  /** Actions to dispatch once mounted (e.g. open a case given on the command line). */
  startWith?: TuiAction[];
}

/** The exit code when the user leaves: interrupts are 130, otherwise the last run's own code. */
export function exitCodeFor(requested: number, lastRunExit: number | undefined): number {
  if (requested === EXIT.interrupted) return EXIT.interrupted;
  return lastRunExit ?? requested;
}

/** The root: renders the current screen from state and is the only place that calls exit(). */
export function App({ services, initial, theme, fixedSize, signal, startWith }: AppProps) {
  const { exit } = useApp();
  const { state, controller, rows, selected } = useTui(services, initial, {
    fixedSize,
    signal,
    onStart: (dispatch) => startWith?.forEach(dispatch),
  });

  useEffect(() => {
    if (state.exit) exit({ code: exitCodeFor(state.exit.code, controller.lastRunExit) });
  }, [state.exit, exit, controller]);

  const screen = screenOf(state);
  let body;
  if (state.help) body = <HelpOverlay screen={screen} width={state.size.columns} />;
  else if (screen === 'containers') {
    const visible = visibleContainers(state.containers);
    body = (
      <ContainersScreen
        size={state.size}
        status={state.containers.status}
        error={state.containers.error}
        rows={visible}
        total={state.containers.rows.length}
        filter={state.containers.filter}
        selected={selectedIndex(state.containers, visible)}
        picked={state.incident.picked}
      />
    );
  } else if (screen === 'playbooks') {
    const p = state.playbooks;
    body = (
      <PlaybooksScreen
        size={state.size}
        status={p.status}
        error={p.error}
        target={
          state.incident.pending
            ? `the ${state.incident.pending.length} selected containers: ${state.incident.pending.map((r) => r.name).join(', ')}`
            : (p.target?.name ?? '')
        }
        entries={p.entries}
        cursor={p.cursor}
      />
    );
  } else if (screen === 'run') body = <RunScreen size={state.size} run={state.run} />;
  else if (screen === 'incident')
    body = <IncidentScreen size={state.size} state={state.incident} />;
  else if (screen === 'case')
    body = (
      <CaseScreen
        size={state.size}
        state={state.case}
        releasePlan={state.prompt?.kind === 'release' ? state.prompt.lines : undefined}
      />
    );
  else
    body = (
      <TimelineScreen size={state.size} state={state.timeline} rows={rows} selected={selected} />
    );

  return (
    <ThemeContext.Provider value={theme}>
      <Frame
        size={state.size}
        stack={state.stack}
        input={state.input}
        message={state.message}
        prompt={state.prompt}
        hint={hintFor(screen, state.run)}
      >
        {body}
      </Frame>
    </ThemeContext.Provider>
  );
}
