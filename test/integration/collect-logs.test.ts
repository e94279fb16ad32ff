import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { checkManifest, runSteps } from '../helpers/case-check.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

jest.setTimeout(120_000);

// One second between groups, so since/until can split them by the engine's own times.
const SCRIPT =
  'echo out-1; echo err-1 >&2; sleep 1; echo out-2; sleep 1; echo err-2 >&2; sleep 1; echo out-3; echo done; sleep 600';

/** The lines of a log artifact, each split into the engine's time and the text. */
async function lines(caseDir: string, rel: string): Promise<{ time: string; text: string }[]> {
  const text = await readFile(join(caseDir, rel), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z) (.*)$/.exec(l);
      if (!m) throw new Error(`${rel}: line without the engine's time: ${l}`);
      return { time: m[1], text: m[2] };
    });
}

const texts = (ls: { text: string }[]): string[] => ls.map((l) => l.text);

describe('collect:logs options since, until and tail', () => {
  let docker: Docker;
  const prefix = uniquePrefix('logs-opts');
  const name = `${prefix}-logger`;
  let dir: string;
  let all: { out: { time: string; text: string }[]; err: { time: string; text: string }[] };

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    dir = await mkdtemp(join(tmpdir(), 'cirt-logs-'));
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', SCRIPT],
      Labels: { 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await waitFor(
      'the logger to finish',
      async () => ((await c.logs({ stdout: true })) as Buffer).toString().includes('done'),
      30_000,
    );
    const run = await runSteps(dir, 'all', '  - uses: collect:logs\n', name, 'all');
    expect(run.exitCode).toBe(0);
    all = {
      out: await lines(run.caseDir, 'logs/stdout.log'),
      err: await lines(run.caseDir, 'logs/stderr.log'),
    };
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('everything, demuxed, each line with its time; the raw json-file log beside it', () => {
    expect(texts(all.out)).toEqual(['out-1', 'out-2', 'out-3', 'done']);
    expect(texts(all.err)).toEqual(['err-1', 'err-2']);
  });

  test('tail counts the last N lines of both streams together', async () => {
    const run = await runSteps(
      dir,
      'tail',
      '  - uses: collect:logs\n    with: { tail: 3 }\n',
      name,
      'tail',
    );
    expect(run.exitCode).toBe(0);
    expect((await checkManifest(run.caseDir)).mismatches).toEqual([]);
    expect(texts(await lines(run.caseDir, 'logs/stdout.log'))).toEqual(['out-3', 'done']);
    expect(texts(await lines(run.caseDir, 'logs/stderr.log'))).toEqual(['err-2']);
    // The raw copy is the engine's whole file: tail limits only what the API returns.
    const raw = (await readFile(join(run.caseDir, 'logs/json-file.log'), 'utf8'))
      .trim()
      .split('\n');
    expect(raw.map((l) => (JSON.parse(l) as { log: string }).log.trim()).sort()).toEqual([
      'done',
      'err-1',
      'err-2',
      'out-1',
      'out-2',
      'out-3',
    ]);
  });

  test('since (RFC 3339 with nanoseconds) keeps lines at or after it; until the ones at or before it', async () => {
    const at = all.out[1].time;
    const since = await runSteps(
      dir,
      'since',
      `  - uses: collect:logs\n    with: { since: "${at}" }\n`,
      name,
      'since',
    );
    expect(since.exitCode).toBe(0);
    expect(texts(await lines(since.caseDir, 'logs/stdout.log'))).toEqual([
      'out-2',
      'out-3',
      'done',
    ]);
    expect(texts(await lines(since.caseDir, 'logs/stderr.log'))).toEqual(['err-2']);
    const until = await runSteps(
      dir,
      'until',
      `  - uses: collect:logs\n    with: { until: "${at}" }\n`,
      name,
      'until',
    );
    expect(until.exitCode).toBe(0);
    expect(texts(await lines(until.caseDir, 'logs/stdout.log'))).toEqual(['out-1', 'out-2']);
    expect(texts(await lines(until.caseDir, 'logs/stderr.log'))).toEqual(['err-1']);
  });

  test('a bad since is refused before the engine is touched (exit 2), naming the file, line and column', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      'name: bad\nsteps:\n  - uses: collect:logs\n    with: { since: "yesterday" }\n',
    );
    const r = await runCli(
      ['--cases-dir', join(dir, 'cases'), 'run', file, '-t', name, '--case', 'bad', '--yes'],
      { cwd: dir },
    );
    expect(r.code).toBe(2);
    expect(r.out + r.err).toMatch(/bad\.yaml:4:\d+: .*"since"/);
    await expect(readFile(join(dir, 'cases', 'bad', 'case.json'))).rejects.toThrow(/ENOENT/);
  });
});
