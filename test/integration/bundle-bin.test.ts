import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { bundle } from '../../scripts/bundle.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

/**
 * The installed bin (package.json "bin": the esbuild bundle, issue 12) does what the sources do:
 * built here from src/, then run as a shell runs it, against the real engine.
 */
const ROOT = path.resolve('.');
const BIN = path.join(
  ROOT,
  (
    JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      bin: { cirt: string };
    }
  ).bin.cirt,
);

describe('the bundled bin (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('bundle');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-bundle-bin-'));

  beforeAll(async () => {
    docker = await requireEngine();
    await bundle();
    await ensureImage(docker);
    const net = `${prefix}-net`;
    await docker.createNetwork({ Name: net });
    const c = await docker.createContainer({
      name: `${prefix}-victim`,
      Image: LAB_IMAGE,
      Cmd: ['sleep', '2147483647'],
      HostConfig: { NetworkMode: net },
    });
    await c.start();
  }, 240_000);

  afterAll(async () => {
    await cleanupPrefix(docker, prefix);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('Given the bundle, --version, validate and a contain run through the engine work, and the case verifies', () => {
    expect(execFileSync(BIN, ['--version']).toString().trim()).toMatch(/^\d+\.\d+\.\d+/);
    execFileSync(BIN, ['validate', path.join(ROOT, 'playbooks', 'contain-and-collect.yaml')]);
    const playbook = path.join(dir, 'contain.yaml');
    fs.writeFileSync(
      playbook,
      fs
        .readFileSync(path.join(ROOT, 'playbooks', 'contain.yaml'), 'utf8')
        .replace('network: cirt-quarantine', `network: ${prefix}-q`) +
        '  - id: seal\n    uses: evidence:seal\n',
    );
    const r = spawnSync(
      BIN,
      [
        'run',
        playbook,
        '-t',
        `${prefix}-victim`,
        '--case',
        'c1',
        '--cases-dir',
        dir,
        '--yes',
        '--json',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    const end = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { status?: string };
    expect({ code: r.status, status: end.status, err: r.stderr }).toEqual({
      code: 0,
      status: 'ok',
      err: '',
    });
    const v = spawnSync(BIN, ['verify', path.join(dir, 'c1.tar.gz')], { encoding: 'utf8' });
    expect(v.stdout).toContain('VALID');
    expect(v.status).toBe(0);
  }, 180_000);
});
