import { createContext, useContext } from 'react';

/**
 * Colours by role. Under NO_COLOR (https://no-color.org) every colour is undefined; bold and inverse
 * stay (they are not colour), and every state also has a symbol, so nothing is told by colour alone.
 */
export interface Theme {
  color: boolean;
  accent?: string;
  ok?: string;
  warn?: string;
  bad?: string;
  muted?: string;
  highlight?: string;
}

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  // NO_COLOR counts when present and not empty.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return { color: false };
  return {
    color: true,
    accent: 'cyan',
    ok: 'green',
    warn: 'yellow',
    bad: 'red',
    muted: 'gray',
    highlight: 'magenta',
  };
}

export const ThemeContext = createContext<Theme>(themeFor({}));

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/** Severity → colour role. */
export function severityColor(t: Theme, severity: string): string | undefined {
  switch (severity.toLowerCase()) {
    case 'critical':
    case 'high':
      return t.bad;
    case 'medium':
      return t.warn;
    case 'low':
      return t.accent;
    default:
      return t.muted;
  }
}
