import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { outstanding } from '../../src/containment/history.js';
import { registry } from '../../src/actions/index.js';
import { nsToIso } from '../../src/host/fs-stat.js';
import { CaseStore } from '../../src/evidence/case-store.js';
import type { CustodyRecord } from '../../src/evidence/custody.js';
import { UserError } from '../../src/errors.js';
import { buildTimeline } from '../../src/timeline/build.js';
import { openCaseSource } from '../../src/evidence/case-source.js';
import { computeFindings } from '../../src/findings/compute.js';
import { readCase } from '../../src/tui/data/case-reader.js';
import { compromisedCase, iso, T0, writeCase, type CaseSpec } from '../fixtures/case-folder.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Tampered or malformed case files are bad input: a warning or exit 2 naming the file, the rest
 * still read — never "a bug in cirt" (which is what each of these printed before).
 */

let base: string;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cirt-malformed-'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

let n = 0;
async function caseWith(
  files: CaseSpec['files'],
  spec: CaseSpec = compromisedCase(),
): Promise<string> {
  const dir = join(base, `case-${++n}`);
  await mkdir(dir);
  await writeCase(dir, { ...spec, files: { ...spec.files, ...files } });
  return dir;
}

const GOOD_FINDING = {
  id: 'r-1',
  rule: 'r',
  title: 'Good finding',
  severity: 'high',
  technique: 'T1',
  summary: 'still shown',
  evidence: [{ artifact: 'fs/changes.json', ref: { entry: 1 } }],
  events: [],
};

describe('cirt findings on a damaged findings.json', () => {
  test.each([
    ['not JSON', '{"findings": [', /findings\.json is not valid JSON/],
    ['null', 'null', /findings\.json is not a findings document .*got null/],
    ['[null]', '[null]', /findings\.json is not a findings document .*got a list/],
    [
      'findings not a list',
      '{"rulesVersion":"1","findings":{"a":1}}',
      /findings\.json: "findings" is an object, not a list/,
    ],
  ])('%s: exit 2 naming the file', async (_name, text, message) => {
    const dir = await caseWith({ 'findings.json': text });
    const r = await runCli(['findings', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/bug in cirt/);
  });

  test.each([
    [
      'findings: [null]',
      { rulesVersion: '1', findings: [null, GOOD_FINDING] },
      /findings\[0\]: null, not a finding; skipped/,
    ],
    [
      'evidence not a list',
      {
        rulesVersion: '1',
        findings: [{ ...GOOD_FINDING, id: 'bad-1', evidence: 'fs/x' }, GOOD_FINDING],
      },
      /findings\[0\]: "evidence" is a string, not a list/,
    ],
    [
      'a severity that is not text',
      { rulesVersion: '1', findings: [{ ...GOOD_FINDING, severity: { x: '\u001b]0;t\u0007' } }] },
      /findings\[0\]: "severity" is an object, not text/,
    ],
  ])('%s: a warning per damaged entry, the others shown, exit 2', async (_name, doc, message) => {
    const dir = await caseWith({ 'findings.json': JSON.stringify(doc) });
    const r = await runCli(['findings', dir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.out).toContain('Good finding');

    expect(r.out + r.err).not.toMatch(/\u001b/);
    const json = await runCli(['findings', dir, '--json']);
    expect(json.code).toBe(2);
    expect(
      JSON.parse(json.out).findings.some((f: { title: string }) => f.title === 'Good finding'),
    ).toBe(true);
  });
});

describe('times out of range', () => {
  const spec = (): CaseSpec => {
    const c = compromisedCase();
    const f = c.files as Record<string, unknown>;
    const stat = `${(f['fs/stat.jsonl'] as string).trimEnd()}\n${JSON.stringify({ path: '/tmp/forged', kind: 'A', type: 'file', mode: 0o100644, size: 1, inode: '9', mtime: 1e300, atime: iso(10) })}\n`;
    const events = `${f['container/events.jsonl'] as string}\n{"status":"kill","id":"c0ffee","Type":"container","Action":"kill","Actor":{"ID":"c0ffee","Attributes":{}},"time":1e20}\n`;
    return { ...c, files: { ...c.files, 'fs/stat.jsonl': stat, 'container/events.jsonl': events } };
  };

  test('an mtime of 1e300 and an engine time of 1e20: a warning each, every other event kept', async () => {
    const dir = await caseWith({}, spec());
    const warnings: string[] = [];
    const built = await buildTimeline(await openCaseSource(dir), {
      onWarning: (m) => warnings.push(m),
    });
    const events = [];
    for await (const e of built.events) events.push(e);
    expect(
      warnings.some((w) =>
        /fs\/stat\.jsonl:3: mtime 1e\+300 is not a time the timeline can place/.test(w),
      ),
    ).toBe(true);
    expect(
      warnings.some((w) =>
        /container\/events\.jsonl:\d+: engine event without a time or action/.test(w),
      ),
    ).toBe(true);
    // The forged file keeps its good time; the rest of the case is all there.
    expect(
      events.some((e) => e.attrs.path === '/tmp/forged' && e.timestamp === (T0 + 10) * 1000),
    ).toBe(true);
    expect(events.some((e) => e.source === 'logs' && e.message.includes('req 3 done'))).toBe(true);
    expect(events.some((e) => e.source === 'engine')).toBe(true);
    expect(events.length).toBeGreaterThan(30);
  });

  test('cirt timeline of a timeline.jsonl with timestamp 1e20: that line skipped with a warning, the others shown', async () => {
    const line = (us: number, msg: string) =>
      JSON.stringify({
        id: `x:${msg}`,
        datetime: 'forged',
        timestamp: us,
        timestamp_desc: 'd',
        message: msg,
        source: 'logs',
        kind: 'log:stdout',
        actor: 'container',
        ref: { artifact: 'logs/stdout.log', line: 1 },
        attrs: {},
      });
    const dir = await caseWith({
      'timeline/timeline.jsonl': [
        line((T0 + 1) * 1000, 'before'),
        line(1e20, 'forged'),
        line((T0 + 2) * 1000, 'after'),
        '',
      ].join('\n'),
    });
    for (const format of ['table', 'csv', 'jsonl', 'bodyfile']) {
      const r = await runCli(['timeline', dir, '--format', format]);
      expect(r.err).not.toMatch(/bug in cirt/);
      expect(r.code).toBe(0);
      expect(r.err).toMatch(/timeline\.jsonl:2: timestamp 100000000000000000000 is out of range/);
      if (format !== 'bodyfile') {
        expect(r.out).toContain('before');
        expect(r.out).toContain('after');
        expect(r.out).not.toContain('forged');
      }
    }
  });
});

describe('collected times Date cannot hold', () => {
  test.each([
    [1_700_000_000_123_456_789n, '2023-11-14T22:13:20.123456789Z'],
    // `touch -d @99999999999999` works on a tmpfs (/dev/shm): seen here.
    [99_999_999_999_999n * 1_000_000_000n, '@99999999999999.000000000'],
    [-(10n ** 25n), `@-${10n ** 16n}.000000000`],
  ])('nsToIso(%s) is %s, never a RangeError', (ns, text) => {
    expect(nsToIso(ns)).toBe(text);
  });
});

describe('bodyfile inode', () => {
  test('the inode stat.jsonl stores as text reaches the bodyfile, exactly (also past 2^53)', async () => {
    const c = compromisedCase();
    const stat = [
      {
        path: '/tmp/.cache/kworkerd',
        kind: 'A',
        type: 'file',
        mode: 0o100755,
        size: 134,
        inode: '4242',
        mtime: iso(1_100),
      },
      {
        path: '/root/.ssh/authorized_keys',
        kind: 'A',
        type: 'file',
        mode: 0o100600,
        size: 90,
        inode: '18446744073709551557',
        mtime: iso(1_150),
      },
    ];
    const dir = await caseWith(
      { 'fs/stat.jsonl': `${stat.map((s) => JSON.stringify(s)).join('\n')}\n` },
      c,
    );
    const r = await runCli(['timeline', dir, '--format', 'bodyfile']);
    expect(r.code).toBe(0);
    const rows = r.out
      .trimEnd()
      .split('\n')
      .map((l) => l.split('|'));
    expect(rows.find((x) => x[1] === '/tmp/.cache/kworkerd')?.[2]).toBe('4242');
    expect(rows.find((x) => x[1] === '/root/.ssh/authorized_keys')?.[2]).toBe(
      '18446744073709551557',
    );
  });
});

describe('case.json and manifest.json that are not what they claim', () => {
  test.each([
    ['case.json', 'not json', /case\.json is not valid JSON/],
    ['case.json', 'null', /case\.json is not a cirt case\.json/],
    [
      'case.json',
      '{"id":"x","status":"open","target":"c0ffee","runs":[]}',
      /case\.json is not a cirt case\.json \("target"/,
    ],
    ['manifest.json', '[]', /manifest\.json is not a cirt manifest\.json/],
    [
      'manifest.json',
      '{"artifacts":[null]}',
      /manifest\.json is not a cirt manifest\.json \("artifacts\.0"/,
    ],
  ])('%s = %s: CaseStore.open is a UserError naming the file', async (file, text, message) => {
    const dir = join(base, `store-${++n}`);
    await mkdir(dir);
    await writeFile(
      join(dir, 'case.json'),
      JSON.stringify({
        schema: 'cirt.case/1',
        id: 'x',
        status: 'open',
        target: { id: 'c0ffee', name: 'victim' },
        runs: [],
      }),
    );
    await writeFile(join(dir, 'manifest.json'), '{"artifacts":[]}');
    await writeFile(join(dir, file), text);
    const err = await CaseStore.open(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    // The TUI's case screen: the same files make a UserError or a note, never a TypeError.
    const tui = await readCase(dir).catch((e: unknown) => e);
    if (file === 'case.json') expect(tui).toBeInstanceOf(UserError);
    else expect((tui as { notes: string[] }).notes.join('\n')).toMatch(message);
  });

  test('cirt seal and cirt release of a case with a damaged case.json: exit 2 naming it', async () => {
    const cases = join(base, `cases-${++n}`);
    await mkdir(join(cases, 'c1'), { recursive: true });
    await writeFile(join(cases, 'c1', 'case.json'), '{"id": ');
    for (const cmd of ['seal', 'release']) {
      const r = await runCli([cmd, '--case', 'c1', '--cases-dir', cases]);
      expect(r.err).not.toMatch(/bug in cirt/);
      expect(r.err).toMatch(/c1\/case\.json is not valid JSON/);
      expect(r.code).toBe(2);
    }
  });
});

describe('cirt verify of a case whose bookkeeping files have the wrong shape', () => {
  test.each([
    [
      'manifest.json artifacts [null]',
      { 'manifest.json': '{"caseId":"fixture","artifacts":[null,{"path":7}]}' },
      /manifest\.json: artifacts\[0\] is not \{path, sha256, bytes\}/,
    ],
    ['manifest.json a list', { 'manifest.json': '[1]' }, /manifest\.json: is not an object/],
    ['case.json null', { 'case.json': 'null' }, /case\.json: is not a case record/],
    ['case.json not JSON', { 'case.json': '{"id":' }, /case\.json: is not valid JSON/],
  ])('%s: exit 1 with the problem listed, not a crash', async (_name, files, message) => {
    const dir = await caseWith({});
    for (const [rel, text] of Object.entries(files)) await writeFile(join(dir, rel), text);
    const r = await runCli(['verify', dir]);
    expect(r.err + r.out).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toMatch(message);
  });

  test('custody records whose artifacts are not a list: a custody problem, not a crash', async () => {
    const c = compromisedCase();
    const dir = await caseWith({}, c);
    const { custodyText } = await import('../fixtures/case-folder.js');
    // A chain re-hashed by whoever edited it: it checks, but its records do not have our shapes.
    await writeFile(
      join(dir, 'custody.jsonl'),
      custodyText([{ at: 0, action: 'run:start', result: 'info' }]).replace(
        '"result":"info"',
        '"result":"info","artifacts":"x"',
      ),
    );
    const r = await runCli(['verify', dir]);
    expect(r.err + r.out).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(1);
  });

  test('cirt seal of a case whose custody chain was edited: exit 1 naming custody.jsonl and the line', async () => {
    const cases = join(base, `cases-${++n}`);
    const dir = join(cases, 'c3');
    await mkdir(dir, { recursive: true });
    await writeFile(
      join(dir, 'case.json'),
      JSON.stringify({
        schema: 'cirt.case/1',
        id: 'c3',
        status: 'complete',
        target: { id: 'c0ffee', name: 'victim' },
        runs: [],
      }),
    );
    const { custodyText } = await import('../fixtures/case-folder.js');
    await writeFile(
      join(dir, 'custody.jsonl'),
      custodyText([
        { at: 0, action: 'run:start', result: 'info' },
        { at: 1, action: 'run:end', result: 'ok' },
      ]).replace('"run:end"', '"run:END"'),
    );
    const r = await runCli(['seal', '--case', 'c3', '--cases-dir', cases]);
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.err).toMatch(/custody log .*custody\.jsonl is damaged at line 2/);
    expect(r.code).toBe(1);
  });
});

describe('evidence artifacts of the wrong shape', () => {
  const wrong: [string, unknown][] = [
    ['null', null],
    ['[null]', [null]],
    ['a number', 1e300],
    ['a string', 'x'],
    ['a list of strings', ['a', 'b']],
  ];
  const artifacts = [
    'container/inspect.json',
    'container/image-inspect.json',
    'container/image-history.json',
    'proc/processes.json',
    'fs/changes.json',
    'net/before-isolation/sockets.json',
    'net/before-isolation/routes.json',
    'net/before-isolation/interfaces.json',
    'manifest.json',
  ];
  test.each(wrong)(
    'every artifact %s: findings and timeline still computed, with warnings',
    async (_name, value) => {
      const dir = await caseWith(
        Object.fromEntries(
          artifacts.filter((a) => a !== 'manifest.json').map((a) => [a, JSON.stringify(value)]),
        ),
      );
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(value));
      const src = await openCaseSource(dir);
      const warnings: string[] = [];
      const doc = await computeFindings(src, { onWarning: (m) => warnings.push(m) });
      expect(warnings.filter((w) => /matcher .* failed/.test(w))).toEqual([]);
      expect(Array.isArray(doc.findings)).toBe(true);
      const built = await buildTimeline(src, { onWarning: () => undefined });
      let count = 0;
      for await (const e of built.events) if (e.source === 'logs') count++;
      expect(count).toBeGreaterThan(3);
    },
  );
});

describe('artifacts with odd values inside', () => {
  test('nested nulls, numbers for text, text for numbers: no matcher fails, findings and timeline computed', async () => {
    const odd = {
      'container/inspect.json': {
        Id: 7,
        Name: null,
        Created: 1e300,
        State: { StartedAt: 1e20, FinishedAt: null, ExitCode: 'x' },
        Config: { Env: 'PATH=/x', ExposedPorts: null },
        HostConfig: { PortBindings: 5 },
        NetworkSettings: { Networks: { a: null, b: { IPAddress: 5, IPPrefixLen: '16' } } },
        Path: ['sh'],
      },
      'container/image-inspect.json': { Config: null },
      'container/image-history.json': [
        { Created: 1e300 },
        { Created: -1 },
        { Created: 'yesterday' },
        null,
      ],
      'proc/processes.json': [
        { pid: 'x', cmdline: 'sh', exe: 5, startTime: 1e300 },
        { pid: 1e300, startTime: '2026-13-45T99:99:99Z' },
        null,
      ],
      'net/before-isolation/sockets.json': [
        { proto: 5, localPort: 'x', remotePort: 1e300, state: null, processes: 'nc' },
        null,
      ],
      'net/before-isolation/routes.json': [
        { flags: 5, destination: 7, prefixLength: '8' },
        { ipv4: 'x' },
        { ipv4: [null, { address: 5 }] },
      ],
    };
    const dir = await caseWith(
      Object.fromEntries(Object.entries(odd).map(([k, v]) => [k, JSON.stringify(v)])),
    );
    const warnings: string[] = [];
    const src = await openCaseSource(dir);
    const doc = await computeFindings(src, { onWarning: (m) => warnings.push(m) });
    expect(warnings.filter((w) => /matcher .* failed/.test(w))).toEqual([]);
    expect(doc.findings.some((f) => f.rule === 'executable-in-temp')).toBe(true);
    const r = await runCli(['timeline', dir]);
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(0);
    expect(r.out).toContain('req 3 done');
  });
});

describe('JSONL artifacts with lines of the wrong shape', () => {
  test('null, lists, numbers and odd fields in every JSONL artifact: warnings, the other lines still read', async () => {
    const c = compromisedCase();
    const f = c.files as Record<string, string>;
    const odd = [
      'null',
      '[null]',
      '1e300',
      '"x"',
      `{"time":${JSON.stringify(iso(5))},"action":"x","artifacts":"not-a-list","details":null}`,
      '{"path":7,"mtime":1e300,"inode":-1}',
    ].join('\n');
    const withOdd = (text: string): string => `${odd}\n${text}`;
    const dir = await caseWith(
      {
        'custody.jsonl': withOdd(f['custody.jsonl']),
        'container/events.jsonl': withOdd(f['container/events.jsonl']),
        'fs/diff-index.jsonl': withOdd(f['fs/diff-index.jsonl']),
        'fs/stat.jsonl': withOdd(f['fs/stat.jsonl']),
      },
      c,
    );
    const r = await runCli(['timeline', dir, '--format', 'jsonl']);
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(0);
    const events = r.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { source: string; message: string });
    for (const source of ['custody', 'engine', 'fs', 'logs', 'exec'])
      expect(events.some((e) => e.source === source)).toBe(true);
    const findings = await runCli(['findings', dir]);
    expect(findings.err).not.toMatch(/bug in cirt|matcher .* failed/);
    expect(findings.code).toBe(0);
  });
});

describe('custody records of the wrong shape', () => {
  test('contain records whose artifacts are not a list of {path, sha256}: nothing outstanding, no TypeError', () => {
    const rec = {
      seq: 1,
      time: iso(0),
      actor: 'a',
      action: 'contain:network-isolate',
      result: 'ok',
      prevHash: '0',
      hash: '1',
    } as const;
    const records = [
      { ...rec, artifacts: 'containment/network-isolate.json' },
      { ...rec, artifacts: [null, { path: 7 }, { path: 'containment/x.json' }] },
    ] as unknown as CustodyRecord[];
    expect(
      outstanding(base, records, registry.list()).find(
        (p) => p.action === 'contain:network-isolate',
      )?.records,
    ).toEqual([]);
  });

  test('a containment record that is not the shape release needs: a FailureError naming it', async () => {
    const dir = join(base, `rec-${++n}`);
    await mkdir(join(dir, 'containment'), { recursive: true });
    const body = '{"container":"x"}';
    await writeFile(join(dir, 'containment', 'network-isolate.json'), body);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const records = [
      {
        seq: 1,
        time: iso(0),
        actor: 'a',
        action: 'contain:network-isolate',
        result: 'ok',
        artifacts: [{ path: 'containment/network-isolate.json', sha256, bytes: body.length }],
        prevHash: '0',
        hash: '1',
      },
    ] as CustodyRecord[];
    expect(() => outstanding(dir, records, registry.list())).toThrow(
      /containment record containment\/network-isolate\.json of the case does not have the fields release needs/,
    );
  });
});

describe('playbook alias bomb', () => {
  const bomb = [
    'name: bomb',
    'a: &a ["x","x","x","x","x","x","x","x","x"]',
    ...'bcdefgh'
      .split('')
      .map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`),
    'steps: []',
    '',
  ].join('\n');
  test('cirt validate a.yaml b.yaml --json: JSON with the problem of a.yaml at its line, b.yaml still checked, exit 2', async () => {
    const dir = join(base, `pb-${++n}`);
    await mkdir(dir);
    await writeFile(join(dir, 'a.yaml'), bomb);
    await writeFile(join(dir, 'b.yaml'), 'name: fine\nsteps:\n  - uses: collect:inspect\n');
    const r = await runCli(['validate', 'a.yaml', 'b.yaml', '--json'], { cwd: dir });
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.out) as {
      ok: boolean;
      results: {
        playbook: string;
        ok: boolean;
        problems: { line: number; col: number; message: string }[];
      }[];
    };
    expect(doc.ok).toBe(false);
    expect(doc.results.map((x) => [x.playbook, x.ok])).toEqual([
      ['a.yaml', false],
      ['b.yaml', true],
    ]);
    expect(doc.results[0].problems[0]).toMatchObject({
      line: 3,
      message: expect.stringMatching(/Excessive alias count/),
    });
    const plain = await runCli(['validate', 'a.yaml', 'b.yaml'], { cwd: dir });
    expect(plain.code).toBe(2);
    expect(plain.err).toMatch(/a\.yaml:3:\d+: Excessive alias count/);
    expect(plain.out).toMatch(/✔ b\.yaml/);
  });

  test('a findings rules file with an alias bomb: cirt findings --rules exits 2 naming file:line', async () => {
    const dir = await caseWith({});
    const rules = join(base, `rules-${++n}.yaml`);
    await writeFile(
      rules,
      bomb.replace('name: bomb', 'version: "1"').replace('steps: []', 'rules: []'),
    );
    const r = await runCli(['findings', dir, '--rules', rules]);
    expect(r.err).not.toMatch(/bug in cirt/);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/rules-\d+\.yaml:3:\d+: Excessive alias count/);
  });
});
