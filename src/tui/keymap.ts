import { META_FIELDS } from '../app/case-meta.js';
import { EXIT } from '../errors.js';
import { listRows, timelineLayout } from './layout.js';
import type { InputField, TuiAction } from './state/actions.js';
import { selectedContainer } from './state/lists.js';
import { screenOf, type TuiState } from './state/reducer.js';
import { runActive } from './state/run.js';
import { incidentActive } from './state/incident.js';

/** The part of Ink's Key we use (kept small so tests can build keys by hand). */
export interface KeyInfo {
  upArrow?: boolean;
  downArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  meta?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
}

const BOUND_ON_CONTAINERS = new Set(['j', 'k', 'q', '?', '/', 'g', 'G']);

/** Up/down/page/home/end as a row delta for a list of `page` rows. */
function motion(input: string, key: KeyInfo, page: number): number | 'home' | 'end' | null {
  if (key.upArrow || input === 'k') return -1;
  if (key.downArrow || input === 'j') return 1;
  if (key.pageUp || (key.ctrl && input === 'b')) return -page;
  if (key.pageDown || input === ' ' || (key.ctrl && input === 'f')) return page;
  if (key.home || input === 'g') return 'home';
  if (key.end || input === 'G') return 'end';
  return null;
}

/** The case details the TUI asks for, in order, and how the footer names each. */
export const META_LABELS: Record<(typeof META_FIELDS)[number], string> = {
  title: 'title',
  ticket: 'ticket',
  caseNumber: 'case number',
  evidenceNumber: 'evidence number',
  responder: 'examiner',
  description: 'description',
  notes: 'notes',
};

/** Enter on a case detail keeps it and asks the next; after the last (or Esc) the start prompt is back. */
function metaTyping(
  field: Extract<InputField, { kind: 'meta' }>,
  input: string,
  key: KeyInfo,
): TuiAction[] {
  if (key.return || key.escape) {
    const value = field.text.trim();
    const meta = { ...field.pending.meta };
    if (key.return) {
      if (value) meta[field.key] = value;
      else delete meta[field.key];
    }
    const pending = { ...field.pending, meta };
    const next = META_FIELDS[META_FIELDS.indexOf(field.key) + 1];
    if (key.return && next)
      return [
        { type: 'input:set', field: { kind: 'meta', key: next, text: meta[next] ?? '', pending } },
      ];
    return [
      { type: 'input:set', field: null },
      { type: 'prompt:open', prompt: pending },
    ];
  }
  let text = field.text;
  if (key.backspace || key.delete) text = text.slice(0, -1);
  else if (input && !key.ctrl && !key.meta && !key.tab && input >= ' ' && text.length < 200)
    text += input;
  else return [];
  return [{ type: 'input:set', field: { ...field, text } }];
}

function typing(s: TuiState, field: InputField, input: string, key: KeyInfo): TuiAction[] {
  if (field.kind === 'meta') return metaTyping(field, input, key);
  if (key.escape) {
    // Esc on the containers filter also clears it: the filter is live, not committed.
    return field.kind === 'filter'
      ? [
          { type: 'input:set', field: null },
          { type: 'containers:filter', text: '' },
        ]
      : [{ type: 'input:set', field: null }];
  }
  if (key.return) {
    if (field.kind === 'search')
      return [
        { type: 'input:set', field: null },
        { type: 'timeline:search', query: field.text.trim(), source: null },
      ];
    if (field.kind === 'time')
      return [
        { type: 'input:set', field: null },
        { type: 'timeline:jump-time', text: field.text.trim() },
      ];
    // Enter in the filter picks the selected match, as in a fuzzy finder.
    const sel = selectedContainer(s.containers);
    return sel
      ? [
          { type: 'input:set', field: null },
          { type: 'playbooks:request', target: sel },
        ]
      : [{ type: 'input:set', field: null }];
  }
  let text = field.text;
  if (key.backspace || key.delete) text = text.slice(0, -1);
  else if (input && !key.ctrl && !key.meta && !key.tab && input >= ' ') text += input;
  else return [];
  const next: TuiAction[] = [{ type: 'input:set', field: { ...field, text } }];
  if (field.kind === 'filter') next.push({ type: 'containers:filter', text });
  return next;
}

function prompted(s: TuiState, input: string): TuiAction[] {
  const p = s.prompt!;
  if (p.kind === 'start' && (input === 'd' || input === 'D'))
    return [
      { type: 'prompt:close' },
      {
        type: 'input:set',
        field: { kind: 'meta', key: 'title', text: p.meta?.title ?? '', pending: p },
      },
    ];
  // Only an explicit y answers yes; Enter, n, Esc and everything else mean no.
  if (input !== 'y' && input !== 'Y') return [{ type: 'prompt:close' }];
  switch (p.kind) {
    case 'quit':
      return [{ type: 'quit', code: EXIT.interrupted }];
    case 'abort':
      return [{ type: 'run:abort' }];
    case 'start':
      return [{ type: 'run:request', playbook: p.playbook, target: p.target, meta: p.meta }];
    case 'start-many':
      return [{ type: 'incident:request', playbook: p.playbook, targets: p.targets }];
    case 'release':
      return [{ type: 'case:release', dir: p.dir }];
  }
}

function screenKeys(s: TuiState, input: string, key: KeyInfo): TuiAction[] {
  switch (screenOf(s)) {
    case 'containers': {
      // Space selects (several containers, one run for all of them), it does not page here.
      const cur = selectedContainer(s.containers);
      if (input === ' ') return cur ? [{ type: 'containers:toggle', id: cur.id }] : [];
      const m = motion(input, key, listRows(s.size));
      if (m !== null)
        return [{ type: 'containers:move', delta: m === 'home' ? -1e9 : m === 'end' ? 1e9 : m }];
      const sel = selectedContainer(s.containers);
      const picked = s.containers.rows.filter((r) => s.incident.picked.includes(r.id));
      if (key.return && picked.length)
        return [
          { type: 'incident:pick', targets: picked },
          { type: 'playbooks:request', target: picked[0], many: true },
        ];
      if (key.return && sel) return [{ type: 'playbooks:request', target: sel }];
      if (input === '/')
        return [{ type: 'input:set', field: { kind: 'filter', text: s.containers.filter } }];
      // Typing a name filters at once: any printable key that is not a command starts the filter.
      if (input && input > ' ' && !key.ctrl && !key.meta && !BOUND_ON_CONTAINERS.has(input)) {
        return [
          { type: 'input:set', field: { kind: 'filter', text: input } },
          { type: 'containers:filter', text: input },
        ];
      }
      return [];
    }
    case 'playbooks': {
      const m = motion(input, key, listRows(s.size));
      if (m !== null)
        return [{ type: 'playbooks:move', delta: m === 'home' ? -1e9 : m === 'end' ? 1e9 : m }];
      const entry = s.playbooks.entries[s.playbooks.cursor];
      if (key.return && entry && s.playbooks.target) {
        if (entry.problem)
          return [
            {
              type: 'message',
              text: `Playbook ${entry.name} has problems; fix it and run \`cirt validate\`.`,
            },
          ];
        const many = s.incident.pending;
        return [
          {
            type: 'prompt:open',
            prompt: many
              ? { kind: 'start-many', playbook: entry, targets: many }
              : { kind: 'start', playbook: entry, target: s.playbooks.target },
          },
        ];
      }
      return [];
    }
    case 'run': {
      const r = s.run;
      if (r.confirm) {
        const stepId = r.confirm.stepId;
        if (input === 'y' || input === 'Y') return [{ type: 'run:answer', stepId, answer: 'yes' }];
        if (input === 's' || input === 'S') return [{ type: 'run:answer', stepId, answer: 'skip' }];
        // The default (Enter, Esc) stops the run: it never goes on as if the step had been done.
        if (input === 'a' || input === 'A' || key.return || key.escape)
          return [{ type: 'run:answer', stepId, answer: 'abort' }];
        // "n" could mean skip or stop: ask for the key that says which.
        if (input === 'n' || input === 'N')
          return [
            {
              type: 'message',
              text: 'Answer y (run it), s (skip it and go on) or a / Enter (stop the run).',
            },
          ];
        return [];
      }
      if (r.phase === 'ended' && r.caseDir) {
        // An interrupted or failed run leaves an unsealed case: s seals what was collected.
        if (input === 's' && !r.end?.bundle && !r.sealing) return [{ type: 'run:seal' }];
        if (input === 'c') return [{ type: 'case:request', dir: r.caseDir, bundle: r.end?.bundle }];
        if (input === 't') return [{ type: 'timeline:request', dir: r.caseDir }];
      }
      return [];
    }
    case 'incident':
      return [];
    case 'case': {
      const m = motion(input, key, listRows(s.size));
      if (m !== null)
        return [{ type: 'case:move', delta: m === 'home' ? -1e9 : m === 'end' ? 1e9 : m }];
      const d = s.case.data;
      if (input === 'v' && d)
        return d.bundle
          ? [{ type: 'case:verify' }]
          : [{ type: 'message', text: 'This case has no sealed bundle yet: nothing to verify.' }];
      if (input === 't' && d) return [{ type: 'timeline:request', dir: d.dir }];
      // r shows what release would change and asks y/N; nothing is touched before the y.
      if (input === 'r' && d && !s.case.releasing) return [{ type: 'case:release-plan' }];
      return [];
    }
    case 'timeline': {
      const t = s.timeline;
      const m = motion(input, key, timelineLayout(s.size).listRows);
      if (m !== null)
        return m === 'home'
          ? [{ type: 'timeline:goto', index: 0 }]
          : m === 'end'
            ? [{ type: 'timeline:goto', index: Number.MAX_SAFE_INTEGER }]
            : [{ type: 'timeline:move', delta: m }];
      if (input === '/') return [{ type: 'input:set', field: { kind: 'search', text: t.query } }];
      if (input === '@' || input === ':')
        return [{ type: 'input:set', field: { kind: 'time', text: '' } }];
      if (input === 's') {
        // Cycles all sources → each source → all sources.
        const i = t.source === null ? 0 : t.sources.indexOf(t.source) + 1;
        return [{ type: 'timeline:search', query: t.query, source: t.sources[i] ?? null }];
      }
      if (input === 'x' && (t.query || t.source))
        return [{ type: 'timeline:search', query: '', source: null }];
      return [];
    }
  }
}

/**
 * Ink hands a chunk of plain text (a paste, or keys sent together as tmux does) to useInput as one
 * string; split it into single key presses so "?\r" is `?` then Enter.
 */
export function splitKeys(input: string, key: KeyInfo): [string, KeyInfo][] {
  if (input.length <= 1 || key.ctrl || key.meta || input.includes('\x1b')) return [[input, key]];
  return [...input].map((ch): [string, KeyInfo] => {
    if (ch === '\r' || ch === '\n') return ['', { return: true }];
    if (ch === '\x7f') return ['', { delete: true }];
    if (ch === '\b') return ['', { backspace: true }];
    if (ch === '\t') return ['', { tab: true }];
    return [ch, {}];
  });
}

/** Maps one key press to the actions it means, given the state it was pressed in. Pure. */
export function keyToActions(s: TuiState, input: string, key: KeyInfo): TuiAction[] {
  if (key.ctrl && input === 'c') {
    if (s.prompt) return [{ type: 'prompt:close' }];
    return [
      {
        type: 'prompt:open',
        prompt:
          runActive(s.run) || incidentActive(s.incident) ? { kind: 'abort' } : { kind: 'quit' },
      },
    ];
  }
  if (s.prompt) return prompted(s, input);
  if (s.input) return typing(s, s.input, input, key);
  if (s.help) return input === '?' || input === 'q' || key.escape ? [{ type: 'help:toggle' }] : [];
  if (input === '?') return [{ type: 'help:toggle' }];
  // An approval is answered before anything else on the run screen (Esc there means no).
  if (screenOf(s) === 'run' && s.run.confirm) return screenKeys(s, input, key);
  if (input === 'q' || key.escape) {
    if (screenOf(s) === 'containers' && s.containers.filter)
      return [{ type: 'containers:filter', text: '' }];
    if (s.stack.length <= 1) {
      // A reflexive Esc (k9s, vim) must not end the session: on the first screen only q leaves,
      // and with a run going on it asks first.
      if (key.escape)
        return [
          { type: 'message', text: 'q quits (Esc goes back, and this is the first screen).' },
        ];
      return runActive(s.run)
        ? [{ type: 'prompt:open', prompt: { kind: 'quit' } }]
        : [{ type: 'nav:back' }];
    }
    return [{ type: 'nav:back' }];
  }
  return screenKeys(s, input, key);
}
