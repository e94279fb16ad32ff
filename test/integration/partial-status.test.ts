import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import type { RunEvent } from '../../src/runner/events.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { execOk } from '../fixtures/exec.js';
import { cleanupPrefix, stageCompromise, type Lab } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';

jest.setTimeout(600_000);

// A file whose name is not UTF-8, directly in /tmp: the engine cannot archive it by name
// (test/fixtures/hostile.ts), so collect:fs-diff notes a gap for its content.
const BAD_NAME = "/tmp/$(printf 'bad-\\377\\376-name')";

describe('never a false OK: contain-and-collect on a container whose fs-diff hits a gap (real engine)', () => {
  const prefix = uniquePrefix('partial');
  const caseId = 'partial-status';
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-partial-'));
  let docker: Docker;
  let lab: Lab;
  let r: CliResult;
  let events: RunEvent[];
  const caseDir = path.join(cwd, 'cases', caseId);

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix, publishPort: false });
    await execOk(docker, lab.victim.id, ['sh', '-c', `echo stolen > "${BAD_NAME}"`]);
    r = await runCli(
      [
        '--cases-dir',
        path.join(cwd, 'cases'),
        'run',
        'contain-and-collect',
        '-t',
        lab.victim.name,
        '--case',
        caseId,
        '--yes',
        '--json',
      ],
      { cwd },
    );
    events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as RunEvent);
  }, 600_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(cwd, { recursive: true, force: true });
  }, 120_000);

  test('exit 1; run:end says incomplete; fs-diff is the one partial step and says how many gaps and where', () => {
    expect({ code: r.code, err: r.err }).toMatchObject({ code: 1 });
    const end = events.at(-1);
    expect(end).toMatchObject({
      type: 'run:end',
      status: 'incomplete',
      exitCode: 1,
      counts: { partial: 1, failed: 0, declined: 0 },
    });
    const ends = events.flatMap((e) => (e.type === 'step:end' ? [e] : []));
    // Only the step that lost content is partial: the events history (a limitation) and the rest stay ok.
    expect(
      ends.filter((e) => e.status !== 'ok' && e.status !== 'noop').map((e) => [e.stepId, e.status]),
    ).toEqual([['fs-diff', 'partial']]);
    const fsdiff = ends.find((e) => e.stepId === 'fs-diff')!;
    expect(fsdiff.message).toMatch(
      new RegExp(
        `; PARTIAL: [1-9]\\d* gap\\(s\\) noted in ${caseDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/case\\.json "incomplete"$`,
      ),
    );
    expect(end!.type === 'run:end' && end!.message).toMatch(
      /^1 step\(s\) partial: [1-9]\d* gap\(s\) noted in case\.json "incomplete"/,
    );
  });

  test('custody: the fs-diff record is partial with its gap count; case.json lists the gaps', () => {
    const custody = fs
      .readFileSync(path.join(caseDir, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const rec = custody.find((c) => c.step === 'fs-diff' && c.action === 'collect:fs-diff');
    expect(rec).toMatchObject({ result: 'partial', details: { gaps: expect.any(Number) } });
    // A sealed chain takes no more records (the run:end custody record of an unsealed run: test/unit/runner-partial.test.ts).
    expect(custody.at(-1)).toMatchObject({ action: 'evidence:seal' });
    const info = JSON.parse(fs.readFileSync(path.join(caseDir, 'case.json'), 'utf8')) as CaseInfo;
    // Sealed by the run's last step: the status is frozen at "sealed"; the gap is in incomplete[].
    expect(info.status).toBe('sealed');
    expect(info.incomplete?.filter((g) => g.step === 'fs-diff').length).toBe(rec.details.gaps);
    expect(info.incomplete?.some((g) => g.step === 'fs-diff' && /bad-/.test(g.reason))).toBe(true);
  });

  test('the report starts with INCOMPLETE: N gaps — see below, and lists the gap under Incomplete', () => {
    const md = fs.readFileSync(path.join(caseDir, 'report.md'), 'utf8').replace(/\\(.)/g, '$1');
    expect(md.split('\n')[0]).toMatch(
      /^> \*\*INCOMPLETE: [1-9]\d* gaps? — see below; ended partial: step "fs-diff" \(collect:fs-diff\) \(custody #\d+\)\*\*$/,
    );
    const incomplete = md.slice(md.indexOf('## Incomplete'), md.indexOf('## Custody'));
    expect(incomplete).toMatch(/- \*\*step fs-diff\*\* — content of .*bad-.* not collected/);
    const html = fs.readFileSync(path.join(caseDir, 'report.html'), 'utf8');
    expect(html).toMatch(/<p class="banner" role="alert">INCOMPLETE: [1-9]\d* gaps? — see below/);
  });
});
