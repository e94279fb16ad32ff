import { afterEach, describe, expect, test } from '@jest/globals';
import { cleanup, render } from 'ink-testing-library';
import type { PendingRow } from '../../src/tui/components/PendingScreen.js';
import { PendingApp } from '../../src/tui/pending-app.js';

afterEach(() => cleanup());

const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

const row = (id: string, name: string): PendingRow => ({
  id,
  rule: 'contain-shells',
  caseId: `case-${name}`,
  container: { id: 'abcdefabcdef0123', name },
  step: {
    id: 'isolate',
    uses: 'contain:network-isolate',
    plan: `disconnect ${name} from its networks`,
  },
  since: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
});

describe('the Pending screen', () => {
  test('Given two steps waiting, When the second is chosen and `a` pressed, Then exactly that one is approved and the list refreshes', async () => {
    let rows = [row('aa01', 'web'), row('bb02', 'db\u001b[2J')];
    const decided: string[] = [];
    const services = {
      load: async () => rows,
      decide: async (id: string, d: 'approve' | 'reject') => {
        decided.push(`${d} ${id}`);
        rows = rows.filter((r) => r.id !== id);
        return `Approved ${id} as tester`;
      },
    };
    const ui = render(<PendingApp services={services} width={100} pollMs={10_000} />);
    await tick();
    expect(ui.lastFrame()).toContain('Pending approvals (2)');
    // Attacker-controlled names are shown escaped, never as terminal codes.
    expect(ui.lastFrame()).toContain('db\\x1b[2J');
    ui.stdin.write('\u001b[B');
    await tick();
    ui.stdin.write('a');
    await tick(60);
    expect(decided).toEqual(['approve bb02']);
    expect(ui.lastFrame()).toContain('Approved bb02 as tester');
    expect(ui.lastFrame()).toContain('Pending approvals (1)');
    ui.stdin.write('r');
    await tick(60);
    expect(decided).toEqual(['approve bb02', 'reject aa01']);
  });

  test('Given nothing waiting, Then it says so', async () => {
    const ui = render(
      <PendingApp services={{ load: async () => [], decide: async () => '' }} width={80} />,
    );
    await tick();
    expect(ui.lastFrame()).toContain('Nothing is waiting for approval.');
  });
});
