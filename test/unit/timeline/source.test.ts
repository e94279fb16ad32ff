import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { pack } from 'tar-stream';
import { buildTimeline } from '../../../src/timeline/build.js';
import { openCaseSource, type CaseSource } from '../../../src/evidence/case-source.js';
import { writeTimeline } from '../../../src/timeline/write.js';
import { compromisedCase, writeCase } from '../../fixtures/case-folder.js';

let base: string;
let dir: string;
let bundle: string;

async function jsonlOf(src: CaseSource): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeTimeline((await buildTimeline(src)).batches, { jsonl: out });
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'cirt-src-'));
  dir = join(base, 'case-1');
  await mkdir(dir);
  await writeCase(dir, compromisedCase());
  bundle = join(base, 'case-1.tar.gz');
  // The way an auditor's tools (and the seal) lay it out: one top folder named after the case.
  execFileSync('tar', ['-C', base, '-czf', bundle, 'case-1']);
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe('openCaseSource', () => {
  test('a bundle reads exactly like the folder it was made from', async () => {
    const [d, b] = [await openCaseSource(dir), await openCaseSource(bundle)];
    expect(b.kind).toBe('bundle');
    expect(await b.list()).toEqual(await d.list());
    expect(await b.readText('container/inspect.json')).toBe(
      await d.readText('container/inspect.json'),
    );
    const fromDir = await jsonlOf(d);
    expect(fromDir.length).toBeGreaterThan(1024 * 1024);
    expect(await jsonlOf(b)).toBe(fromDir);
  });

  test('large members are streamed out of the archive (not cached), small ones read whole', async () => {
    const b = await openCaseSource(bundle);
    let bytes = 0;
    for await (const c of b.createReadStream('logs/stdout.log')) bytes += (c as Buffer).length;
    expect(bytes).toBeGreaterThan(1024 * 1024);
    expect(await b.exists('fs/changes.json')).toBe(true);
    expect(await b.exists('nope.json')).toBe(false);
    await expect(b.readText('nope.json')).rejects.toThrow('not in bundle');
  });

  test.each(['../case.json', '/etc/passwd', 'a//b', './x'])('refuses the path %j', async (rel) => {
    const d = await openCaseSource(dir);
    await expect(d.readText(rel)).rejects.toThrow('not a case-relative path');
  });

  test('hostile members (traversal, symlinks) are ignored with a warning', async () => {
    const p = pack();
    p.entry({ name: 'evil/case.json' }, '{}');
    p.entry({ name: 'evil/../../etc/x' }, 'x');
    p.entry({ name: 'evil/link', type: 'symlink', linkname: '/etc/shadow' });
    p.finalize();
    const gz = p.pipe(
      zlib.createGzip() as unknown as NodeJS.WritableStream,
    ) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const c of gz) chunks.push(c as Buffer);
    const file = join(base, 'evil.tar.gz');
    await writeFile(file, Buffer.concat(chunks));
    const warnings: string[] = [];
    const b = await openCaseSource(file, { warn: (m) => warnings.push(m) });
    expect(await b.list()).toEqual(['case.json']);
    expect(warnings.join('\n')).toMatch(/unsafe path[\s\S]*symlink|symlink[\s\S]*unsafe path/);
  });

  test('a file that is not an archive is a user error', async () => {
    const file = join(base, 'junk.tar.gz');
    await writeFile(file, 'not a tar');
    await expect(openCaseSource(file)).rejects.toThrow('Cannot read bundle');
  });
});
