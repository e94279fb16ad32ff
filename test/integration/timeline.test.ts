import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { main } from '../../src/cli/main.js';
import type { FindingsDoc } from '../../src/findings/types.js';
import type { TimelineEvent } from '../../src/timeline/event.js';
import { unescapeBodyName } from '../../src/timeline/exporters/bodyfile.js';
import {
  cleanupPrefix,
  stageCompromise,
  startPlainVictim,
  waitFor,
  type Lab,
} from '../fixtures/lab.js';
import { checkManifest, runSteps, type PlaybookRun } from '../helpers/case-check.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { csvObjects, parseBodyfile, timesketchProblems } from '../helpers/timesketch.js';

/** The collectors as the contain-and-collect playbook orders them, then the analysis and the seal. */
const STEPS = `  - uses: contain:pause
  - uses: collect:network
    with: { phase: before-isolation }
  - uses: collect:inspect
  - uses: contain:network-isolate
  - uses: collect:events
  - uses: collect:processes
  - uses: collect:logs
  - uses: collect:fs-diff
  - uses: collect:events
  - uses: evidence:timeline
  - uses: evidence:findings
  - uses: evidence:seal
`;

async function cirt(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out = Object.assign(new PassThrough(), { columns: 120 });
  const err = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  out.on('data', (c: Buffer) => o.push(c));
  err.on('data', (c: Buffer) => e.push(c));
  const code = await main(args, { out, err, interactive: false, env: {}, cwd: process.cwd() });
  return { code, out: Buffer.concat(o).toString(), err: Buffer.concat(e).toString() };
}

const read = (caseDir: string, rel: string): Promise<string> =>
  readFile(join(caseDir, rel), 'utf8');

describe('timeline and findings of a staged compromise (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('timeline');
  let lab: Lab;
  let dir: string;
  let dirty: PlaybookRun;
  let clean: PlaybookRun;

  beforeAll(async () => {
    docker = await requireEngine();
    dir = await mkdtemp(join(tmpdir(), 'cirt-timeline-'));
    const [l, control] = await Promise.all([
      stageCompromise(docker, { prefix }),
      startPlainVictim(docker, prefix),
    ]);
    lab = l;
    // On a user-defined network too, like the victim: the engine's embedded DNS then listens inside it.
    const net = await docker.createNetwork({ Name: `${prefix}-ctl`, Driver: 'bridge' });
    await docker.getNetwork(net.id).connect({ Container: control.id });
    // A few log lines (with their ANSI/OSC escapes) before collecting.
    await waitFor('the victim to log 4 requests', async () =>
      ((await docker.getContainer(lab.victim.id).logs({ stdout: true, stderr: true })) as Buffer)
        .toString('latin1')
        .includes('req 4 '),
    );
    [dirty, clean] = await Promise.all([
      runSteps(dir, 'dirty', STEPS, lab.victim.name, 'dirty'),
      runSteps(dir, 'clean', STEPS, control.name, 'clean'),
    ]);
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('both runs succeed; the timeline artifacts are hashed in the manifest', async () => {
    for (const run of [dirty, clean]) {
      expect(run.events.filter((e) => e.type === 'step:end' && e.status === 'failed')).toEqual([]);
      expect(run.exitCode).toBe(0);
      const { entries, mismatches } = await checkManifest(run.caseDir);
      expect(mismatches).toEqual([]);
      expect(entries.map((e) => e.path)).toEqual(
        expect.arrayContaining([
          'timeline/timeline.jsonl',
          'timeline/timeline.csv',
          'timeline/bodyfile',
          'findings.json',
        ]),
      );
    }
  });

  test('mactime -b parses the bodyfile and lists the dropper', async () => {
    const out = execFileSync(
      'mactime',
      ['-b', join(dirty.caseDir, 'timeline/bodyfile'), '-z', 'UTC', '-y'],
      { encoding: 'utf8' },
    );
    expect(out).toMatch(
      new RegExp(
        `\\s\\d+ m[.a][.c][.b] -rwxr-xr-x 0\\s+0\\s+\\d+\\s+${lab.dropperPath.replace(/\./g, '\\.')}\\n`,
      ),
    );
    const rows = parseBodyfile(await read(dirty.caseDir, 'timeline/bodyfile'), unescapeBodyName);
    expect(rows.find((r) => r.name === lab.dropperPath)?.mtime).toBeGreaterThan(0);
  });

  test('JSONL and CSV pass the Timesketch checker, in time order, with the same rows', async () => {
    const events = (await read(dirty.caseDir, 'timeline/timeline.jsonl'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as TimelineEvent);
    const rows = csvObjects(await read(dirty.caseDir, 'timeline/timeline.csv'));
    expect(rows).toHaveLength(events.length);
    events.forEach((e, i) => {
      expect(timesketchProblems(e as never)).toEqual([]);
      expect(timesketchProblems(rows[i])).toEqual([]);
      expect(rows[i].message).toBe(e.message);
      if (i) expect(e.timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
    });
    const sources = new Set(events.map((e) => e.source));
    for (const s of [
      'lifecycle',
      'image',
      'engine',
      'exec',
      'logs',
      'fs',
      'process',
      'socket',
      'custody',
    ])
      expect(sources).toContain(s);
    // The victim's ANSI/OSC log lines survive as text; our own pause/top are the responder's, the attacker's execs are not.
    expect(
      events.some((e) => e.source === 'logs' && e.message.includes('\u001b]0;pwned\u0007')),
    ).toBe(true);
    // The second read of the engine's events holds our top (processes) and archive requests (fs-diff).
    const engine = events.filter((e) => e.source === 'engine');
    const ours = (action: string) =>
      engine
        .filter((e) => e.attrs.action === action)
        .map((e) => `${e.actor} ${String(e.attrs.responderStep)}`);
    expect(ours('pause')).toEqual(['responder pause']);
    expect(ours('top')).toEqual(['responder processes']);
    expect(new Set(ours('archive-path'))).toEqual(new Set(['responder fs-diff']));
    // The isolate step's network events name the container only in their attributes: collected too, and ours.
    // (engine 20.10 reports one disconnect twice, a few µs apart)
    expect(ours('disconnect').length).toBeGreaterThan(0);
    expect(new Set(ours('disconnect'))).toEqual(new Set(['responder network-isolate']));
    expect(ours('connect').filter((a) => a.startsWith('responder'))).toEqual([
      'responder network-isolate',
    ]);
    expect(
      engine
        .filter((e) => e.actor === 'responder')
        .every((e) =>
          ['pause', 'top', 'archive-path', 'disconnect', 'connect'].includes(
            String(e.attrs.action),
          ),
        ),
    ).toBe(true);
    const execs = events.filter((e) => e.kind === 'exec:session');
    expect(execs).toHaveLength(4);
    expect(execs.every((e) => e.actor === 'container')).toBe(true);
  });

  test('every planted action is found and linked to timeline events', async () => {
    const doc = JSON.parse(await read(dirty.caseDir, 'findings.json')) as FindingsDoc;
    const find = (rule: string, text: string) =>
      doc.findings.find((f) => f.rule === rule && f.summary.includes(text));
    const planted = {
      dropper: find('executable-in-temp', lab.dropperPath),
      sshKey: find('ssh-authorized-keys', '/root/.ssh/authorized_keys'),
      crontab: find('cron-persistence', '/var/spool/cron/crontabs/root'),
      c2: find('outbound-unusual-port', `${lab.attacker.ip}:${lab.c2Port}`),
      execDropper: find('exec-session', lab.dropperPath),
      execKey: find('exec-session', 'authorized_keys'),
    };
    for (const [what, f] of Object.entries(planted)) {
      expect([what, f?.events.length ?? 0]).toEqual([what, expect.any(Number)]);
      expect(f?.events.length).toBeGreaterThan(0);
    }
    expect(planted.dropper?.summary).toContain(lab.dropperSha256);
    // Nothing beyond what was planted: nc only connects out, it does not listen.
    expect(doc.findings.filter((f) => f.rule === 'listening-not-exposed')).toEqual([]);
  });

  test('no finding on the clean control container of the same image', async () => {
    const doc = JSON.parse(await read(clean.caseDir, 'findings.json')) as FindingsDoc;
    expect(doc.findings.map((f) => `${f.rule}: ${f.summary}`)).toEqual([]);
  });

  test('cirt timeline and cirt findings read the sealed bundle; the report shows the findings', async () => {
    const bundle = `${dirty.caseDir}.tar.gz`;
    expect(existsSync(bundle)).toBe(true);
    const t = await cirt(['timeline', bundle, '--grep', 'kworkerd', '--source', 'fs']);
    expect(t.code).toBe(0);
    expect(t.out).toContain(lab.dropperPath);
    const f = await cirt(['findings', bundle]);
    expect(f.code).toBe(0);
    expect(f.out).toMatch(/^HIGH +Executable dropped in a temporary directory \[T1105\]/m);
    const report = await read(dirty.caseDir, 'report.md');
    expect(report).toContain('## Findings');
    expect(report).toContain('Executable dropped in a temporary directory');
    expect(await read(clean.caseDir, 'report.md')).toContain('No finding: no rule matched');
  });
});
