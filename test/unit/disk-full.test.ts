import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CaseStore, RESERVE_FILE } from '../../src/evidence/case-store.js';
import { checkChain, CustodyLog } from '../../src/evidence/custody.js';
import { HashingFileWriter } from '../../src/evidence/hashing-writer.js';
import { sealCase } from '../../src/evidence/seal.js';
import { sealReport } from '../../src/report/seal-report.js';
import type { CaseInfo } from '../../src/evidence/types.js';
import { DiskWriteError } from '../../src/evidence/write-errors.js';
import { writeChunk } from '../../src/util/streams.js';
import { z } from 'zod';
import { ActionRegistry } from '../../src/runner/registry.js';
import type { ContainerRuntime, Target } from '../../src/runtime/types.js';
import { defineAction } from '../../src/runner/action.js';
import { EventBus, type RunEvent } from '../../src/runner/events.js';
import { runPlaybook } from '../../src/runner/runner.js';
import { parsePlaybook } from '../../src/playbook/load.js';
import { runCli } from '../helpers/run-cli.js';

// A real full disk: a small tmpfs (root only), filled with a filler file beside the case folder.
const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-diskfull-unit-'));
const filler = path.join(mnt, 'filler');
const rejections: unknown[] = [];
const onRejection = (r: unknown): void => {
  rejections.push(r);
};

/** Fills the tmpfs until nothing more fits. */
function fill(): void {
  const fd = fs.openSync(filler, 'a');
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) fs.writeSync(fd, block);
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
}

const info = (id: string): CaseInfo => ({
  schema: 'cirt.case/1',
  id,
  responder: 't@h',
  host: 'h',
  engine: { address: 'unix:///x', local: true, version: '1', apiVersion: '1.41' },
  tool: { name: 'cirt', version: '0' },
  target: { id: 'abc', name: 'n', image: 'i', imageId: 'sha256:0' },
  startedAt: new Date().toISOString(),
  status: 'failed',
  runs: [],
});
const meta = { mediaType: 'application/octet-stream', source: 'test', action: 'test:x', step: 's' };

beforeAll(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  process.on('unhandledRejection', onRejection);
});
afterEach(() => {
  for (const f of fs.readdirSync(mnt))
    fs.rmSync(path.join(mnt, f), { recursive: true, force: true });
});
afterAll(() => {
  process.off('unhandledRejection', onRejection);
  execFileSync('umount', [mnt]);
  fs.rmSync(mnt, { recursive: true, force: true });
});

describe('hashing writer on a full disk', () => {
  test('Given the disk fills up mid-file, writes reject with the described error, done() reports it, and the hash is of the bytes on disk', async () => {
    const file = path.join(mnt, 'out.bin');
    const w = new HashingFileWriter(
      file,
      undefined,
      (err) => new Error(`described: ${(err as NodeJS.ErrnoException).code}`),
    );
    let failure: Error | undefined;
    try {
      for (let i = 0; i < 64; i++) await writeChunk(w.stream, Buffer.alloc(256 * 1024, i));
    } catch (err) {
      failure = err as Error;
    }
    w.stream.end();
    const r = await w.done();
    expect(failure?.message).toBe('described: ENOSPC');
    expect(r.complete).toBe(false);
    expect(r.error?.message).toBe('described: ENOSPC');
    const disk = fs.readFileSync(file);
    expect(disk.length).toBeGreaterThan(0);
    expect(r.bytes).toBe(disk.length);
    expect(r.sha256).toBe(createHash('sha256').update(disk).digest('hex'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(rejections).toEqual([]);
  });

  test('Given a piped source and a full disk, from() resolves incomplete and destroys the source (an engine response lets go of its connection)', async () => {
    fill();
    const w = new HashingFileWriter(path.join(mnt, 'piped.bin'));
    let n = 0;
    const source = new Readable({
      read() {
        this.push(n++ < 1000 ? Buffer.alloc(64 * 1024, 1) : null);
      },
    });
    const r = await w.from(source);
    expect(r.complete).toBe(false);
    expect((r.error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    expect(source.destroyed).toBe(true);
    expect(rejections).toEqual([]);
  });
});

describe('custody and the case store on a full disk', () => {
  test('Given a custody line the disk refuses, the file keeps only whole lines and the chain goes on once there is room', async () => {
    const file = path.join(mnt, 'custody.jsonl');
    const log = CustodyLog.open(file);
    await log.append({ actor: 'a', action: 'one', result: 'info' });
    fill();
    const big = 'x'.repeat(64 * 1024);
    await expect(
      log.append({ actor: 'a', action: 'two', result: 'info', message: big }),
    ).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(checkChain(fs.readFileSync(file, 'utf8')).problems).toEqual([]);
    fs.rmSync(filler);
    await log.append({ actor: 'a', action: 'three', result: 'info', message: big });
    const { records, problems } = checkChain(fs.readFileSync(file, 'utf8'));
    expect(problems).toEqual([]);
    expect(records.map((r) => [r.seq, r.action])).toEqual([
      [1, 'one'],
      [2, 'three'],
    ]);
    expect(CustodyLog.open(file).records).toHaveLength(2);
  });

  test('Given an artifact that fills the disk, the store names file and errno, gives up its reserve, and the failure still reaches custody and case.json', async () => {
    const { store } = await CaseStore.openOrCreate(mnt, 'c1', () => info('c1'));
    expect(await store.holdReserve()).toBe(true);
    fill();
    const h = await store.artifact('fs/diff.tar', meta);
    const failure = await writeChunk(h.stream, Buffer.alloc(4 << 20)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(DiskWriteError);
    expect((failure as Error).message).toBe(
      `the cases folder ${mnt} is full (ENOSPC) while writing fs/diff.tar of case c1 (step s)`,
    );
    expect((failure as DiskWriteError).hint).toContain('cirt seal --case c1');
    h.stream.end();
    const entry = await h.done();
    expect(entry).toMatchObject({ path: 'fs/diff.tar', complete: false });
    expect(entry.bytes).toBe(fs.statSync(path.join(store.root, 'fs/diff.tar')).size);
    expect(fs.existsSync(path.join(store.root, RESERVE_FILE))).toBe(false);
    await store.record({
      actor: 'a',
      action: 'collect:fs-diff',
      result: 'failed',
      message: (failure as Error).message,
    });
    await store.updateInfo({ status: 'failed' });
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'case.json'), 'utf8')).status).toBe(
      'failed',
    );
    expect(fs.readdirSync(store.root).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  test('Given a seal that hits ENOSPC before signing, no SHA256SUMS or bundle is left, case.json is not "sealed", and the seal works once space is freed', async () => {
    const { store } = await CaseStore.openOrCreate(mnt, 'c2', () => info('c2'));
    await store.writeArtifact('x.bin', Buffer.alloc(100_000, 7), meta);
    await store.record({ actor: 'a', action: 'run:start', result: 'info' });
    fill();
    const writeReport = (rel: string, text: string, m: { mediaType: string; source: string }) =>
      store.writeArtifact(rel, text, { ...m, action: 'evidence:seal', step: 'seal' });
    await expect(
      sealCase({ store, actor: 'a', via: 'test', report: sealReport, writeReport }),
    ).rejects.toThrow(`the cases folder ${mnt} is full (ENOSPC) while writing`);
    for (const f of ['SHA256SUMS', 'SHA256SUMS.sig', 'pub.pem'])
      expect(fs.existsSync(path.join(store.root, f))).toBe(false);
    expect(fs.readdirSync(mnt).filter((f) => f.startsWith('c2.tar.gz'))).toEqual([]);
    expect(store.sealed).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'case.json'), 'utf8')).status).not.toBe(
      'sealed',
    );

    fs.rmSync(filler);
    const again = await CaseStore.open(store.root);
    const r = await sealCase({
      store: again,
      actor: 'a',
      via: 'test',
      report: sealReport,
      writeReport: (rel, text, m) =>
        again.writeArtifact(rel, text, { ...m, action: 'evidence:seal', step: 'seal' }),
    });
    expect(fs.existsSync(r.bundle.path)).toBe(true);
    expect(
      checkChain(fs.readFileSync(path.join(store.root, 'custody.jsonl'), 'utf8')).problems,
    ).toEqual([]);
    const v = await runCli(['verify', r.bundle.path]);
    expect(v.out).toContain('VALID');
    expect(v.code).toBe(0);
    expect(rejections).toEqual([]);
  });

  test('Given a case left "sealed" by a seal that stopped before signing, it is opened again to be sealed', async () => {
    const { store } = await CaseStore.openOrCreate(mnt, 'c3', () => ({
      ...info('c3'),
      status: 'sealed',
    }));
    fs.writeFileSync(path.join(store.root, 'SHA256SUMS'), 'half');
    const reopened = await CaseStore.open(store.root);
    expect(reopened.sealed).toBe(true);
    expect(await reopened.reopenUnsignedSeal('a')).toBe(true);
    expect(reopened.sealed).toBe(false);
    expect(fs.existsSync(path.join(store.root, 'SHA256SUMS'))).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'case.json'), 'utf8')).status).toBe(
      'open',
    );
    const r = await sealCase({
      store: reopened,
      actor: 'a',
      via: 'test',
      report: sealReport,
      writeReport: (rel, text, m) =>
        reopened.writeArtifact(rel, text, { ...m, action: 'evidence:seal', step: 'seal' }),
    });
    expect(fs.existsSync(r.bundle.path)).toBe(true);
    expect(
      checkChain(fs.readFileSync(path.join(store.root, 'custody.jsonl'), 'utf8')).records.map(
        (x) => x.action,
      ),
    ).toEqual(['evidence:seal', 'evidence:seal']);
    const v = await runCli(['verify', r.bundle.path]);
    expect(v.out).toContain('VALID');
    expect(v.code).toBe(0);
  });
});

describe('runner on a full disk', () => {
  // An action that writes an artifact and, like a careless one, returns ok without looking at it.
  const careless = defineAction({
    name: 'test:write-big',
    description: 'test action',
    example: '- uses: test:write-big',
    params: z.strictObject({}),
    mutates: false,
    needs: [],
    plan: () => 'write 4 MiB',
    async run(ctx) {
      await ctx.writeArtifact('big.bin', Buffer.alloc(4 << 20, 1), {
        mediaType: 'application/octet-stream',
        source: 'test',
      });
      return { status: 'ok', summary: 'wrote it' };
    },
  });
  const registry = new ActionRegistry([careless]);
  const target: Target = {
    id: 'f'.repeat(64),
    name: 'victim',
    image: 'img',
    imageId: 'sha256:0',
    state: 'running',
    running: true,
    paused: false,
    pid: 1,
  };
  const runtime = {
    info: {
      kind: 'none',
      ...{ address: 'none', local: true, version: '0', apiVersion: '0', os: 'linux', kernel: '0' },
    },
    capabilities: new Set(),
  } as unknown as ContainerRuntime;

  test('Given a step whose artifact the disk cut short, the step fails (never a false ok), custody has it, the run ends failed with a low-space warning', async () => {
    const { store } = await CaseStore.openOrCreate(mnt, 'r1', () => ({
      ...info('r1'),
      target: { id: target.id, name: target.name, image: 'img', imageId: 'sha256:0' },
      status: 'open',
    }));
    const { playbook, problems } = parsePlaybook(
      'name: t\nsteps:\n  - id: big\n    uses: test:write-big\n',
      registry,
      't.yaml',
    );
    if (!playbook) throw new Error(JSON.stringify(problems));
    const bus = new EventBus();
    const events: RunEvent[] = [];
    bus.on((e) => events.push(e));
    const summary = await runPlaybook({
      playbook,
      runtime,
      target,
      store,
      dryRun: false,
      yes: true,
      bus,
      signal: new AbortController().signal,
      actor: 'tester',
    });
    expect(summary).toMatchObject({ status: 'failed', exitCode: 1 });
    const start = events[0] as Extract<RunEvent, { type: 'run:start' }>;
    expect(start.warnings?.[0]).toMatch(
      /^low disk space: the cases folder .* has [\d.]+ (KiB|MiB) free of 2\.0 MiB/,
    );
    const end = events.find((e) => e.type === 'step:end') as Extract<
      RunEvent,
      { type: 'step:end' }
    >;
    expect(end).toMatchObject({
      status: 'failed',
      error: `the cases folder ${mnt} is full (ENOSPC) while writing big.bin of case r1 (step big)`,
    });
    expect(events.at(-1)).toMatchObject({ type: 'run:end', status: 'failed', exitCode: 1 });
    const { records, problems: broken } = checkChain(
      fs.readFileSync(path.join(store.root, 'custody.jsonl'), 'utf8'),
    );
    expect(broken).toEqual([]);
    expect(records.map((r) => [r.action, r.result])).toEqual([
      ['run:start', 'info'],
      ['test:write-big', 'failed'],
      ['run:end', 'failed'],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(store.root, 'case.json'), 'utf8')).status).toBe(
      'failed',
    );
    expect(fs.existsSync(path.join(store.root, RESERVE_FILE))).toBe(false);
  });
});
