import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import { stageCompromise, type Lab } from '../fixtures/lab.js';
import { runCli } from '../helpers/run-cli.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

jest.setTimeout(300_000);

/** Every action that leaves a kind of artifact in a bundle, so each kind is tampered with below. */
const STEPS = [
  'collect:inspect',
  'collect:events',
  'collect:logs',
  'collect:processes',
  'collect:network',
  'collect:fs-diff',
  'collect:export\n    with: { index: true }',
  'evidence:timeline',
  'evidence:findings',
];

function files(root: string, rel = ''): string[] {
  return fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const r = rel ? `${rel}/${d.name}` : d.name;
    return d.isDirectory() ? files(root, r) : [r];
  });
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The first ```sh block after `heading` in a doc: the commands exactly as an auditor reads them. */
function shBlock(doc: string, heading: string): string {
  const text = fs.readFileSync(path.join(process.cwd(), doc), 'utf8');
  const m = /```sh\n([\s\S]*?)```/.exec(text.slice(text.indexOf(heading)));
  if (!m) throw new Error(`no sh block after "${heading}" in ${doc}`);
  return m[1];
}

/** Runs a doc's commands with `set -e` in a folder holding only the bundle and its .sha256, as an auditor receives them. */
function runAsAuditor(tmp: string, caseId: string, script: string): string {
  const inbox = fs.mkdtempSync(path.join(tmp, 'inbox-'));
  for (const f of [`${caseId}.tar.gz`, `${caseId}.tar.gz.sha256`])
    fs.copyFileSync(path.join(tmp, 'cases', f), path.join(inbox, f));
  return execFileSync('sh', ['-ec', script.replaceAll('CASE', caseId)], {
    cwd: inbox,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('a full sealed bundle: checked with stock tools as documented; one flipped byte in any file is caught and named', () => {
  let docker: Docker;
  let lab: Lab;
  let tmp: string;
  let pristine: string;
  const caseId = 'tamper-all';

  beforeAll(async () => {
    docker = await requireEngine();
    lab = await stageCompromise(docker, { prefix: uniquePrefix('tamper') });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-tamper-'));
    const playbook = path.join(tmp, 'all.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: all',
        'steps:',
        ...STEPS.map((s) => `  - uses: ${s}`),
        '  - uses: evidence:seal',
        '    always: true',
        '',
      ].join('\n'),
    );
    const out = new PassThrough().resume();
    const r = await runCommand(
      { playbook, target: lab.victim.name, caseId, casesDir: path.join(tmp, 'cases'), yes: true },
      { out, err: out, interactive: false, env: process.env, cwd: tmp },
    );
    expect(r.exitCode).toBe(0);
    pristine = path.join(tmp, 'audit');
    fs.mkdirSync(pristine);
    execFileSync('tar', ['-xzf', path.join(tmp, 'cases', `${caseId}.tar.gz`), '-C', pristine]);
  });

  afterAll(async () => {
    await lab?.cleanup();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the bundle holds every artifact kind, and it verifies untouched', async () => {
    const all = files(path.join(pristine, caseId));
    for (const p of [
      'container/inspect.json',
      'container/events.jsonl',
      'logs/stdout.log',
      'logs/json-file.log',
      'proc/processes.json',
      'proc/raw.jsonl',
      'net/snapshot/sockets.json',
      'net/snapshot/raw/tcp',
      'fs/diff.tar',
      'fs/diff-index.jsonl',
      'fs/stat.jsonl',
      'fs/export.tar',
      'fs/export-index.jsonl',
      'timeline/timeline.jsonl',
      'timeline/bodyfile',
      'findings.json',
      'report.md',
      'report.html',
      'case.json',
      'custody.jsonl',
      'manifest.json',
      'SHA256SUMS',
      'SHA256SUMS.sig',
      'pub.pem',
    ]) {
      expect(all).toContain(p);
    }
    expect((await runCli(['verify', path.join(pristine, caseId)], { cwd: tmp })).code).toBe(0);
  });

  test.each([
    ['README.md', '## Evidence, and how an auditor checks it'],
    ['docs/auditing.md', '# Checking a cirt evidence bundle'],
  ])('the stock commands of %s, run exactly as printed, pass on the bundle', (doc, heading) => {
    const script = shBlock(doc, heading);
    expect(script).toMatch(/openssl pkeyutl -verify/);
    const out = runAsAuditor(tmp, caseId, script);
    expect(out).toMatch(new RegExp(`^${caseId}\\.tar\\.gz: OK$`, 'm'));
    expect(out).toMatch(/^fs\/diff\.tar: OK$/m);
    expect(out).not.toMatch(/FAILED/);
    expect(out).toMatch(/Signature Verified Successfully/);
  });

  test("docs/auditing.md's hand checks hold: the custody chain recomputed with sed and sha256sum, the key fingerprint", () => {
    const dir = path.join(pristine, caseId);
    const doc = fs.readFileSync('docs/auditing.md', 'utf8');
    const chainCmd = /To check\s+it by hand: `([^`]+)`/.exec(doc)![1];
    const recomputed = execFileSync('sh', ['-ec', chainCmd], { cwd: dir, encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(' ')[0]);
    const recorded = fs
      .readFileSync(path.join(dir, 'custody.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { hash: string }).hash);
    expect(recomputed).toEqual(recorded);
    const fpCmd = /its fingerprint is\s+`([^`]+)`/.exec(doc)![1];
    const fp = execFileSync('sh', ['-ec', fpCmd], { cwd: dir, encoding: 'utf8' }).split(' ')[0];
    expect(fp).toBe(
      (
        JSON.parse(fs.readFileSync(path.join(dir, 'case.json'), 'utf8')) as {
          seal: { publicKeySha256: string };
        }
      ).seal.publicKeySha256,
    );
  });

  test('each file, one byte flipped (or, if empty, one byte added): exit 1 and the file is named', async () => {
    const names = files(path.join(pristine, caseId)).sort();
    const missed: string[] = [];
    for (const [i, name] of names.entries()) {
      const dir = path.join(tmp, `t${i}`, caseId);
      fs.cpSync(path.join(pristine, caseId), dir, { recursive: true });
      const file = path.join(dir, name);
      const b = fs.readFileSync(file);
      if (b.length) b[Math.floor(b.length / 2)] ^= 0x01;
      fs.writeFileSync(file, b.length ? b : Buffer.from('x'));
      const r = await runCli(['verify', dir], { cwd: tmp });
      // SHA256SUMS itself is caught by its signature, whose message names it.
      const named =
        name === 'SHA256SUMS'
          ? /✖ SHA256SUMS\.sig: is not a valid signature of SHA256SUMS/
          : new RegExp(`✖ ${escapeRe(name)}( line \\d+)?: `);
      if (r.code !== 1 || !named.test(r.out) || !/INVALID/.test(r.out))
        missed.push(`${name}: exit ${r.code}\n${r.out}`);
      fs.rmSync(path.join(tmp, `t${i}`), { recursive: true, force: true });
    }
    expect(missed).toEqual([]);
    expect(names.length).toBeGreaterThan(40);
  });
});
