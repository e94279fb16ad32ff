import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

describe('target resolution errors (real engine)', () => {
  let docker: Docker;
  const prefix = uniquePrefix('target');
  let shared = '';
  const ids: string[] = [];

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    // Created, never started: cheap. With 17 ids two must share their first hex digit.
    for (let i = 0; i < 17 && !shared; i++) {
      const c = await docker.createContainer({
        name: `${prefix}-${i}`,
        Image: LAB_IMAGE,
        Cmd: ['true'],
        Labels: { 'cirt.lab.prefix': prefix },
      });
      shared = ids.find((id) => id[0] === c.id[0])?.[0] ?? '';
      ids.push(c.id);
    }
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
  });

  test('an ambiguous id prefix is exit 2 listing the candidates', async () => {
    expect(shared).toMatch(/^[0-9a-f]$/);
    const r = await runCli(['run', 'contain', '--target', shared, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`Container id prefix "${shared}" is ambiguous: `));
    const mine = ids.filter((id) => id.startsWith(shared));
    for (const id of mine) expect(r.err).toContain(id.slice(0, 12));
    expect(r.out).toBe('');
  });

  test('a unique id prefix resolves to the container', async () => {
    const r = await runCli(['run', 'contain', '--target', ids[0].slice(0, 16), '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${prefix}-0 (${ids[0].slice(0, 12)})`);
  });

  test('an unknown name is exit 2 with a hint to list containers', async () => {
    const r = await runCli(['run', 'contain', '--target', `${prefix}-nope`, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/No container named ".*-nope"/);
    expect(r.err).toMatch(/cirt ps/);
  });

  test('a name with a newline or escape is refused and shown neutralised', async () => {
    const r = await runCli(['run', 'contain', '--target', 'x\u001b]0;pwned\u0007\ny', '--dry-run']);
    expect(r.code).toBe(2);

    expect(r.err).not.toMatch(/\u001b|\u0007/);
    expect(r.err).toContain('\\x1b]0;pwned\\x07');
  });

  test('cirt ps --all lists the created containers; ps without --all does not', async () => {
    const all = JSON.parse((await runCli(['ps', '--all', '--json'])).out) as {
      id: string;
      state: string;
      quarantined: boolean;
    }[];
    expect(all.filter((c) => ids.includes(c.id)).map((c) => [c.state, c.quarantined])).toEqual(
      ids.map(() => ['created', false]),
    );
    const running = JSON.parse((await runCli(['ps', '--json'])).out) as { id: string }[];
    expect(running.filter((c) => ids.includes(c.id))).toEqual([]);
  });
});
