import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { connect } from '../../src/app/env.js';
import { runCommand } from '../../src/cli/commands/run.js';
import { startRecorder, type Recorder } from '../../src/journal/recorder.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import type { TimelineEvent } from '../../src/timeline/event.js';
import { execOk } from '../fixtures/exec.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

/** More than the engine's own buffer (256) holds. */
const SIGNALS = 270;

const lines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('flight recorder: a case holds what happened before the alert (real engine)', () => {
  let docker: Docker;
  let runtime: ContainerRuntime;
  let recorder: Recorder;
  const prefix = uniquePrefix('journal');
  let dir: string;
  let journal: string;
  let id: string;
  const warnings: string[] = [];

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    dir = await mkdtemp(join(tmpdir(), 'cirt-journal-'));
    journal = join(dir, 'journal');
    runtime = await connect({ cwd: dir, env: process.env });
    recorder = await startRecorder({
      runtime,
      engineName: runtime.info.address,
      dir: journal,
      snapshotIntervalMs: 250,
      onWarning: (m) => warnings.push(m),
    });
    await waitFor('the recorder to connect', async () => recorder.stats().connected);
    const c = await docker.createContainer({
      Image: LAB_IMAGE,
      name: `${prefix}-busy`,
      Cmd: ['sleep', '3600'],
      HostConfig: { NetworkMode: 'none' },
    });
    id = c.id;
    await c.start();
    // SIGWINCH: ignored by the container's init, but each one is a `kill` event in the engine's buffer.
    for (let i = 0; i < SIGNALS; i += 20)
      await Promise.all(
        Array.from({ length: Math.min(20, SIGNALS - i) }, () => c.kill({ signal: 'SIGWINCH' })),
      );
    // A process that starts and exits well before the "alert" (the cirt run).
    await execOk(docker, id, ['sh', '-c', 'exec sleep 1.3']);
    await waitFor(
      'the recorder to see the short-lived process end',
      async () => {
        const text = await readFile(join(journal, '000001.jsonl'), 'utf8');
        return /"kind":"process:ended".*"cmdline":\["sleep","1.3"\]/.test(text);
      },
      15_000,
    );
  }, 120_000);

  afterAll(async () => {
    await recorder?.stop();
    runtime?.close();
    if (docker) await cleanupPrefix(docker, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the case timeline has every signal and the process that came and went, labelled by source', async () => {
    const playbook = join(dir, 'pb.yaml');
    await writeFile(
      playbook,
      'name: history\nsteps:\n  - uses: collect:events\n  - uses: evidence:timeline\n',
    );
    const out = new PassThrough().resume();
    const r = await runCommand(
      {
        playbook,
        target: id,
        caseId: 'journal-case',
        yes: true,
        json: true,
        journal,
        casesDir: join(dir, 'cases'),
      },
      { out, err: new PassThrough().resume(), interactive: false, env: process.env, cwd: dir },
    );
    expect(r.exitCode).toBe(0);
    const caseDir = join(dir, 'cases', 'journal-case');
    const events = lines(await readFile(join(caseDir, 'container/events.jsonl'), 'utf8'));
    const kills = events.filter((e) => e.Action === 'kill');
    expect(kills).toHaveLength(SIGNALS);
    expect(events.some((e) => e.Action === 'create')).toBe(true);
    // Merged with the engine's buffer without duplicates.
    const keys = events.map((e) => `${String(e.timeNano)}|${String(e.Action)}`);
    expect(new Set(keys).size).toBe(keys.length);

    const timeline = lines(
      await readFile(join(caseDir, 'timeline/timeline.jsonl'), 'utf8'),
    ) as unknown as TimelineEvent[];
    expect(timeline.filter((e) => e.source === 'engine' && /kill/.test(e.message))).toHaveLength(
      SIGNALS,
    );
    const short = timeline.filter(
      (e) =>
        e.source === 'journal' &&
        JSON.stringify(e.attrs.cmdline) === JSON.stringify(['sleep', '1.3']),
    );
    expect(short.map((e) => e.kind).sort()).toEqual(['process:end', 'process:start']);
    expect(short[0].attrs.origin).toMatch(/flight recorder snapshot/);

    // The excerpt is an artifact like any other: listed with its hash.
    const manifest = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8')) as {
      artifacts: { path: string; sha256: string }[];
    };
    expect(manifest.artifacts.map((a) => a.path)).toContain('journal/excerpt.jsonl');
    // The case says how far back the history reaches.
    const caseJson = await readFile(join(caseDir, 'case.json'), 'utf8');
    expect(caseJson).not.toMatch(/history incomplete/);
  }, 90_000);

  test('journal query and verify work on the live journal', async () => {
    const q = await runCli(['journal', 'query', journal, '--container', `${prefix}-busy`]);
    expect(q.code).toBe(0);
    const recs = lines(q.out);
    expect(recs.filter((r) => r.kind === 'engine:event' && r.action === 'kill')).toHaveLength(
      SIGNALS,
    );
    expect(recs.every((r) => r.container === undefined || r.container === id)).toBe(true);
    const v = await runCli(['journal', 'verify', journal]);
    expect(v.out).toMatch(/VALID/);
    expect(v.code).toBe(0);
  });
});
