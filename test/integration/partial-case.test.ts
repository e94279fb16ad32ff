import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import type { CustodyRecord } from '../../src/evidence/custody.js';
import type { CaseInfo, ManifestEntry } from '../../src/evidence/types.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, waitFor } from '../fixtures/lab.js';
import { runCli } from '../helpers/run-cli.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(300_000);

const BIG = 256 << 20;
const read = (dir: string, rel: string): string => fs.readFileSync(path.join(dir, rel), 'utf8');
const manifestOf = (dir: string): ManifestEntry[] =>
  (JSON.parse(read(dir, 'manifest.json')) as { artifacts: ManifestEntry[] }).artifacts;
const custodyOf = (dir: string): CustodyRecord[] =>
  read(dir, 'custody.jsonl')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CustodyRecord);

/** The report lists every action with its result, every artifact with its full hash, and each gap. */
function expectReportsCover(dir: string, gapsExpected: RegExp[]): void {
  const md = read(dir, 'report.md');
  const html = read(dir, 'report.html');
  const incompleteMd = md.slice(md.indexOf('## Incomplete'), md.indexOf('## Custody'));
  // The report's sections carry ids (the first screen links to them): find the headings by text.
  const incompleteHtml = html.slice(
    html.search(/<h2[^>]*>Incomplete/),
    html.search(/<h2[^>]*>Custody/),
  );
  for (const g of gapsExpected) {
    expect(incompleteMd).toMatch(g);
    expect(incompleteHtml).toMatch(g);
  }
  for (const a of manifestOf(dir).filter((x) => !x.path.startsWith('report.'))) {
    const mdRow = md
      .split('\n')
      .find((l) => l.startsWith(`| ${a.path.replace(/[_\\]/g, (c) => `\\${c}`)} |`));
    expect({ path: a.path, row: mdRow }).toEqual({
      path: a.path,
      row: expect.stringContaining(`| \`${a.sha256}\` |`),
    });
    expect(mdRow).toContain(a.complete ? '| yes |' : '| NO |');
    expect(html).toContain(`<code class="hash">${a.sha256}</code>`);
  }
  for (const r of custodyOf(dir).filter((x) => x.action !== 'evidence:seal')) {
    expect(md).toMatch(new RegExp(`^\\| ${r.seq} \\| ${r.time} \\|.*\\| ${r.result} \\|`, 'm'));
  }
}

describe('a step that fails or is interrupted leaves a partial case that still seals and verifies', () => {
  let docker: Docker;
  const prefix = uniquePrefix('partial');
  const name = `${prefix}-big`;
  let tmp: string;
  let casesDir: string;

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-partial-'));
    casesDir = path.join(tmp, 'cases');
    // A big added file: reading it takes long enough to be interrupted midway.
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: [
        'sh',
        '-c',
        `head -c ${BIG} /dev/urandom > /big.bin; echo ready; trap 'exit 0' TERM; while true; do sleep 1; done`,
      ],
      Labels: { 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await waitFor(
      'the big file to be written',
      async () => ((await c.logs({ stdout: true })) as Buffer).toString().includes('ready'),
      60_000,
    );
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  function playbook(file: string, steps: string[]): string {
    const p = path.join(tmp, file);
    fs.writeFileSync(
      p,
      ['name: partial', 'steps:', ...steps, '  - uses: evidence:seal', '    always: true', ''].join(
        '\n',
      ),
    );
    return p;
  }

  test('a failed step: exit 1, the seal still runs, what came before is kept, the gap is in case.json and both reports', async () => {
    const file = playbook('failed.yaml', [
      '  - uses: collect:inspect',
      '  - uses: collect:network',
      '    with: { via: helper, helperImage: "cirt-t-no-such-image:0" }',
      '  - uses: collect:logs',
    ]);
    const out = new PassThrough().resume();
    const r = await runCommand(
      { playbook: file, target: name, caseId: 'failed-case', casesDir, yes: true },
      { out, err: out, interactive: false, env: process.env, cwd: tmp },
    );
    expect(r.exitCode).toBe(1);
    const dir = path.join(casesDir, 'failed-case');
    const info = JSON.parse(read(dir, 'case.json')) as CaseInfo;
    expect(info.status).toBe('sealed');
    expect(info.incomplete?.map((i) => i.step)).toContain('network');
    expect(manifestOf(dir).map((a) => a.path)).toEqual(
      expect.arrayContaining(['container/inspect.json', 'container/image-inspect.json']),
    );
    const results = Object.fromEntries(custodyOf(dir).map((c) => [c.action, c.result]));
    expect(results).toMatchObject({
      'collect:inspect': 'ok',
      'collect:network': 'failed',
      'evidence:seal': 'info',
    });
    // The run stopped at the failure: logs never ran (the runner records only actions taken).
    expect(results['collect:logs']).toBeUndefined();
    expectReportsCover(dir, [/step network/, /cirt-t-no-such-image:0/]);
    const v = await runCli(['verify', path.join(casesDir, 'failed-case.tar.gz')], { cwd: tmp });
    expect(v).toMatchObject({ code: 0 });
  });

  test('interrupted while fs/diff.tar streams: exit 130, custody says so, the cut artifact is kept marked incomplete; `cirt seal` seals it', async () => {
    const file = playbook('cut.yaml', ['  - uses: collect:inspect', '  - uses: collect:fs-diff']);
    const dir = path.join(casesDir, 'cut-case');
    const ac = new AbortController();
    // Ctrl-C arrives (main.ts turns SIGINT into this abort) once a few MiB of the big file are on disk.
    const poll = setInterval(() => {
      const size = fs.statSync(path.join(dir, 'fs/diff.tar'), { throwIfNoEntry: false })?.size ?? 0;
      if (size > 4 << 20) ac.abort(new Error('interrupted by the user (SIGINT)'));
    }, 10);
    const out = new PassThrough().resume();
    const r = await runCommand(
      { playbook: file, target: name, caseId: 'cut-case', casesDir, yes: true, signal: ac.signal },
      { out, err: out, interactive: false, env: process.env, cwd: tmp },
    ).finally(() => clearInterval(poll));
    expect(r.exitCode).toBe(130);
    expect(ac.signal.aborted).toBe(true);

    const custody = custodyOf(dir);
    expect(custody.find((c) => c.action === 'collect:fs-diff')).toMatchObject({
      result: 'interrupted',
      message: expect.stringMatching(/interrupted: .*big\.bin.*broke off after \d+ bytes/),
    });
    expect(custody.at(-1)).toMatchObject({ action: 'run:end', result: 'interrupted' });
    expect(custody.find((c) => c.action === 'evidence:seal')).toBeUndefined();
    expect(fs.existsSync(path.join(casesDir, 'cut-case.tar.gz'))).toBe(false);

    const tar = manifestOf(dir).find((a) => a.path === 'fs/diff.tar')!;
    const onDisk = fs.statSync(path.join(dir, 'fs/diff.tar')).size;
    expect(tar).toMatchObject({
      complete: false,
      bytes: onDisk,
      error: expect.stringMatching(/broke off|interrupted/),
    });
    expect(onDisk).toBeGreaterThan(4 << 20);
    expect(onDisk).toBeLessThan(BIG);
    expect(manifestOf(dir).find((a) => a.path === 'container/inspect.json')).toMatchObject({
      complete: true,
    });

    const sealed = await runCli(['--cases-dir', casesDir, 'seal', '--case', 'cut-case'], {
      cwd: tmp,
    });
    expect(sealed).toMatchObject({ code: 0 });
    expectReportsCover(dir, [
      /fs\/diff\.tar\*\* — incomplete artifact|<b>fs\/diff\.tar<\/b> — incomplete artifact/,
      /step fs-diff/,
      /run:end\*?\*? — interrupted|run:end<\/b> — interrupted/,
    ]);
    const v = await runCli(['verify', path.join(casesDir, 'cut-case.tar.gz')], { cwd: tmp });
    expect(v).toMatchObject({ code: 0 });
  });
});
