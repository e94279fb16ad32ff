import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { resolveCase } from '../../../src/app/case-ref.js';
import { planReleaseOfCase, planReleaseOfContainer } from '../../../src/app/release-plan.js';
import { custodyText, writeCase } from '../../fixtures/case-folder.js';
import { runCli } from '../../helpers/run-cli.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-cases-'));
const cases = path.join(base, 'cases');
const env = { cwd: base, env: {}, casesDir: cases };
const WEB = { id: 'a'.repeat(64), name: 'web' };
const DB = { id: 'b'.repeat(64), name: 'db' };

function caseJson(id: string, target: { id: string; name: string }, status: string, run?: string) {
  return {
    schema: 'cirt.case/1',
    id,
    responder: 'r',
    host: 'h',
    engine: {
      address: 'unix:///var/run/docker.sock',
      local: true,
      version: '20.10',
      apiVersion: '1.41',
    },
    tool: { name: 'cirt', version: '0' },
    target: { ...target, image: 'lab', imageId: 'sha256:0' },
    startedAt: '2026-11-28T20:00:00.000Z',
    status,
    runs: run ? [{ playbook: 'contain', file: 'x', startedAt: '', status: run }] : [],
  };
}

afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

describe('cases: one resolver, a listing, and what a release would change', () => {
  beforeAll(writeCases);

  test.each([
    ['the id', '20261128T2000-web', '20261128T2000-web'],
    ['a unique prefix', '20261128T2000', '20261128T2000-web'],
    ['a folder path', 'cases/20261129T0900-db', '20261129T0900-db'],
    ['a bundle path', 'cases/20261130T1000-web.tar.gz', '20261130T1000-web'],
    ['a bundle alone, by id', '20261201T1100-old', '20261201T1100-old'],
  ])('resolveCase takes %s', (_what, ref, id) => {
    expect(resolveCase(ref, env).id).toBe(id);
  });

  test('an ambiguous prefix is exit 2 listing the candidates; an unknown one says where it looked', async () => {
    const amb = await runCli(['--cases-dir', cases, 'timeline', '2026']);
    expect(amb.code).toBe(2);
    expect(amb.err).toMatch(/"2026" matches 5 cases in /);
    expect(amb.err).toMatch(/^ {2}20261128T2000-web$/m);
    expect(amb.err).toMatch(/^ {2}20261201T1100-old$/m);
    const none = await runCli(['--cases-dir', cases, 'findings', 'zzz']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/No case "zzz" in .*cases/);
    expect(none.err).toMatch(/cirt cases/);
  });

  test('timeline and findings take an id prefix (they used to need a path)', async () => {
    const t = await runCli(['--cases-dir', cases, 'findings', '20261128T2000']);
    expect(t.err).not.toMatch(/ENOENT/);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/HIGH/);
  });

  test('cirt cases lists target, status, seal, bundle, containment in force and findings', async () => {
    const r = await runCli(['--cases-dir', cases, 'cases']);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +TARGET +ENGINE +STATUS +SEALED +BUNDLE +CONTAINMENT +FINDINGS$/);
    const web = lines.find((l) => l.startsWith('20261128T2000-web'));
    expect(web).toMatch(/web \(aaaaaaaaaaaa\)/);
    expect(web).toMatch(/network isolation, pause/);
    expect(web).toMatch(/high 1, medium 2/);
    const db = lines.find((l) => l.startsWith('20261129T0900-db'));
    expect(db).toMatch(/aborted, empty/);
    expect(lines.find((l) => l.startsWith('20261201T1100-old'))).toMatch(/sealed +yes +yes/);
    expect(r.err).toMatch(/5 cases in .*; 1 still holds containment \(cirt release\); 1 empty/);

    const j = await runCli(['--cases-dir', cases, 'cases', '--json']);
    const doc = JSON.parse(j.out) as {
      cases: { id: string; containment: { key: string }[]; empty: boolean }[];
    };
    expect(
      doc.cases.find((c) => c.id === '20261128T2000-web')?.containment.map((c) => c.key),
    ).toEqual(['isolations', 'paused']);
    expect(doc.cases.find((c) => c.id === '20261129T0900-db')?.empty).toBe(true);
  });

  test('a release plan lists what will change and the open high findings; the wrong case names the right one', () => {
    const p = planReleaseOfCase('20261128T2000', env);
    expect(p.undo).toEqual(['network isolation', 'pause']);
    expect(p.severe).toEqual({ critical: 0, high: 1 });
    const wrong = planReleaseOfCase('20261130T1000-web', env);
    expect(wrong.undo).toEqual([]);
    expect(wrong.otherHolders).toEqual([
      { caseId: '20261128T2000-web', measures: ['network isolation', 'pause'] },
    ]);
    expect(planReleaseOfContainer('web', env).map((x) => x.caseId)).toEqual(['20261128T2000-web']);
    expect(planReleaseOfContainer('aaaaaaaa', env).map((x) => x.caseId)).toEqual([
      '20261128T2000-web',
    ]);
    expect(() => planReleaseOfContainer('db', env)).toThrow(
      /No case in .* holds containment on db/,
    );
  });

  test('release with nobody to ask and no --yes: exit 2 listing the plan, before any engine is contacted', async () => {
    const r = await runCli([
      '--cases-dir',
      cases,
      '--host',
      'tcp://127.0.0.1:1',
      'release',
      '-t',
      'web',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Release needs a confirmation/);
    expect(r.err).toMatch(/will undo: network isolation, pause/);
    expect(r.err).toMatch(/1 high finding\(s\) open/);
    expect(r.err).toMatch(/--yes/);
    expect(r.err).not.toMatch(/127\.0\.0\.1/);
  });
});

/** Given: a case holding isolation and a pause with findings, an empty aborted one, a sealed one, a bundle alone. */
async function writeCases(): Promise<void> {
  {
    await writeCase(path.join(cases, '20261128T2000-web'), {
      files: {
        'case.json': caseJson('20261128T2000-web', WEB, 'complete', 'ok'),
        'custody.jsonl': custodyText([
          { at: 0, action: 'run:start', result: 'info' },
          { at: 500, action: 'contain:pause', result: 'ok' },
          { at: 1000, action: 'contain:network-isolate', result: 'ok' },
        ]),
        'findings.json': {
          rulesVersion: '1',
          findings: [
            { id: 'a-1', severity: 'high' },
            { id: 'b-1', severity: 'medium' },
            { id: 'b-2', severity: 'medium' },
          ],
        },
      },
    });
    await writeCase(path.join(cases, '20261128T2001-web'), {
      files: { 'case.json': caseJson('20261128T2001-web', WEB, 'complete', 'ok'), 'x.txt': 'x' },
    });
    const empty = path.join(cases, '20261129T0900-db');
    fs.mkdirSync(empty, { recursive: true });
    fs.writeFileSync(
      path.join(empty, 'case.json'),
      JSON.stringify(caseJson('20261129T0900-db', DB, 'aborted', 'aborted')),
    );
    fs.writeFileSync(path.join(empty, 'manifest.json'), '{"artifacts":[]}');
    await writeCase(path.join(cases, '20261130T1000-web'), {
      files: { 'case.json': caseJson('20261130T1000-web', WEB, 'complete', 'ok'), 'y.txt': 'y' },
    });
    fs.writeFileSync(path.join(cases, '20261130T1000-web.tar.gz'), 'not really gzip');
    fs.writeFileSync(path.join(cases, '20261201T1100-old.tar.gz'), 'not really gzip');
  }
}
