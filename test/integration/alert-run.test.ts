import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { checkChain } from '../../src/evidence/custody.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

describe('a Falco alert drives a run (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('alert');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-alert-run-'));
  let id = '';

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    const c = await docker.createContainer({
      name: `${prefix}-web`,
      Image: LAB_IMAGE,
      Cmd: ['sleep', '600'],
      Labels: { 'cirt.lab.prefix': prefix },
    });
    await c.start();
    id = c.id;
    fs.writeFileSync(
      path.join(dir, 'inspect.yaml'),
      'name: inspect-only\ndescription: read-only\nsteps:\n  - uses: collect:inspect\n',
    );
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Given an alert naming the container by id, When run with --alert, Then the case holds the alert bytes, hashed, and custody records it', async () => {
    const alert = JSON.stringify({
      rule: 'Terminal shell in container',
      priority: 'Notice',
      time: new Date().toISOString(),
      output: 'A shell was spawned \u001b]0;pwned\u0007',
      output_fields: {
        'container.id': id.slice(0, 12),
        'container.name': `${prefix}-web`,
        'proc.cmdline': 'sh -i',
      },
    });
    fs.writeFileSync(path.join(dir, 'alert.json'), alert);
    const r = await runCli([
      '--cases-dir',
      path.join(dir, 'cases'),
      'run',
      path.join(dir, 'inspect.yaml'),
      '--alert',
      path.join(dir, 'alert.json'),
      '--case',
      'a1',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const last = JSON.parse(r.out.trim().split('\n').pop()!);
    expect(last).toMatchObject({ type: 'run:end', status: 'ok', caseId: 'a1' });

    const root = path.join(dir, 'cases', 'a1');
    const kept = fs.readFileSync(path.join(root, 'alert', 'falco.json'));
    expect(kept.toString()).toBe(alert);
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'manifest.json'), 'utf8'));
    const entry = manifest.artifacts.find((a: { path: string }) => a.path === 'alert/falco.json');
    expect(entry.sha256).toBe(createHash('sha256').update(kept).digest('hex'));

    const { records, problems } = checkChain(
      fs.readFileSync(path.join(root, 'custody.jsonl'), 'utf8'),
    );
    expect(problems).toEqual([]);
    const received = records.find((x) => x.action === 'alert:received');
    expect(received?.message).toMatch(/Terminal shell in container/);
    expect(received?.artifacts?.[0]).toMatchObject({
      path: 'alert/falco.json',
      sha256: entry.sha256,
    });

    const info = JSON.parse(fs.readFileSync(path.join(root, 'case.json'), 'utf8'));
    expect(info.title).toBe('Falco: Terminal shell in container');
    expect(info.target.id).toBe(id);
  });

  test('An alert about a container that is gone is exit 2 naming it, and no case is opened', async () => {
    fs.writeFileSync(
      path.join(dir, 'gone.json'),
      JSON.stringify({ rule: 'r', output_fields: { 'container.id': 'f00dfeedbeef' } }),
    );
    const r = await runCli([
      '--cases-dir',
      path.join(dir, 'cases'),
      'run',
      path.join(dir, 'inspect.yaml'),
      '--alert',
      path.join(dir, 'gone.json'),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/f00dfeedbeef/);
    expect(fs.readdirSync(path.join(dir, 'cases'))).toEqual(['a1']);
  });
});
