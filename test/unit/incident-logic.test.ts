import { collectFrom, PhasePlan, Slots } from '../../src/app/phases.js';
import { groupFindings, groupKey } from '../../src/findings/group.js';
import type { Finding } from '../../src/findings/types.js';
import type { Playbook } from '../../src/runner/playbook.js';

const finding = (rule: string, summary: string, id = `${rule}-1`): Finding => ({
  id,
  rule,
  title: rule,
  severity: 'high',
  technique: 'T1105',
  summary,
  evidence: [],
  events: [],
});

describe('findings across the cases of an incident', () => {
  const H = 'ab'.repeat(32);
  test('the same dropper hash in three containers is one finding with three places', () => {
    const cases = ['web-1', 'web-2', 'web-3'].map((name, i) => ({
      container: name,
      engine: 'default',
      caseId: `c${i}`,
      target: { name, id: `${i}`.repeat(64) },
      // Different paths, one hash: one dropper.
      findings: [finding('dropper', `executable file /tmp/x${i} added (mode 0755), sha256 ${H}`)],
    }));
    const groups = groupFindings(cases);
    expect(groups).toHaveLength(1);
    expect(groups[0].places.map((p) => p.container)).toEqual(['web-1', 'web-2', 'web-3']);
    expect(groups[0].key).toBe(`sha256:${H}`);
  });

  test('a summary naming its own container groups with the same summary elsewhere; other rules stay apart', () => {
    const k1 = groupKey(finding('shell', 'shell in web-1 spawned by httpd'), {
      name: 'web-1',
      id: '1'.repeat(64),
    });
    const k2 = groupKey(finding('shell', 'shell in web-2 spawned by httpd'), {
      name: 'web-2',
      id: '2'.repeat(64),
    });
    const k3 = groupKey(finding('other', 'shell in web-2 spawned by httpd'), {
      name: 'web-2',
      id: '2'.repeat(64),
    });
    expect(k1).toBe(k2);
    expect(k3).not.toBe(k2);
  });
});

const pb = (uses: string[]): Playbook =>
  ({ steps: uses.map((u, i) => ({ id: `s${i}`, uses: u })) }) as unknown as Playbook;

describe('the containment phase comes first', () => {
  test.each([
    [
      [
        'contain:pause',
        'collect:network',
        'contain:network-isolate',
        'collect:logs',
        'evidence:seal',
      ],
      3,
    ],
    [['contain:pause', 'contain:network-isolate'], 2],
    [['collect:logs', 'evidence:seal'], 0],
  ])('split of %j at %d', (uses, at) => {
    expect(collectFrom(pb(uses))).toBe(at);
  });

  test('slots: never more than the limit at once, every waiter served', async () => {
    const slots = new Slots(2);
    let inside = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 7 }, async () => {
        const give = await slots.take();
        most = Math.max(most, ++inside);
        await new Promise((r) => setTimeout(r, 2));
        inside--;
        give();
      }),
    );
    expect(most).toBe(2);
  });

  test('no target collects before every target is contained, even the slowest or a failed one', async () => {
    const order: string[] = [];
    const plan = new PhasePlan(2, 3, { contain: 2, collect: 1 }, new AbortController().signal);
    const run = async (name: string, containMs: number, fails = false) => {
      const pass = plan.forTarget('e1');
      try {
        await pass.begin();
        await pass.gate(0);
        await new Promise((r) => setTimeout(r, containMs));
        if (fails) throw new Error('removed');
        await pass.gate(1);
        order.push(`${name}:contained`);
        await pass.gate(2);
        order.push(`${name}:collect`);
        await new Promise((r) => setTimeout(r, 2));
      } catch {
        order.push(`${name}:failed`);
      } finally {
        pass.end();
      }
    };
    await Promise.all([run('a', 1), run('b', 30), run('c', 5, true)]);
    const firstCollect = order.findIndex((x) => x.endsWith(':collect'));
    expect(order.slice(0, firstCollect).sort()).toEqual(['a:contained', 'b:contained', 'c:failed']);
    expect(order.filter((x) => x.endsWith(':collect'))).toHaveLength(2);
  });
});
