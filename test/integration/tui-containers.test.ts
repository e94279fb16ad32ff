import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { connectRuntime } from '../../src/docker/connection.js';
import { QUARANTINE_LABEL } from '../../src/runtime/quarantine.js';
import { watchContainers } from '../../src/tui/adapters/containers.js';
import type { ContainerRow } from '../../src/tui/types.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

/** Collects what the adapter reports and waits (bounded) for a list that passes `check`. */
function recorder() {
  let latest: ContainerRow[] = [];
  const errors: string[] = [];
  let waiter: (() => void) | undefined;
  return {
    onRows: (rows: ContainerRow[]) => {
      latest = rows;
      waiter?.();
    },
    onError: (m: string) => errors.push(m),
    errors,
    async until(
      what: string,
      check: (rows: ContainerRow[]) => boolean,
      ms = 15_000,
    ): Promise<ContainerRow[]> {
      const end = Date.now() + ms;
      while (!check(latest)) {
        if (Date.now() > end)
          throw new Error(
            `waited ${ms} ms for ${what}; last list: ${latest.map((r) => `${r.name}:${r.state}`).join(', ')}`,
          );
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 200);
        });
      }
      return latest;
    },
  };
}

describe('Containers screen adapter: a live list from the engine’s /events stream (real engine)', () => {
  const prefix = uniquePrefix('tui-live');
  let docker: Docker;

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
  }, 120_000);

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
  }, 60_000);

  test('a container created, paused, quarantined and removed shows up in the list without asking', async () => {
    const rec = recorder();
    const stop = watchContainers(await connectRuntime(), rec.onRows, rec.onError);
    try {
      await rec.until('the first list', () => true);
      const name = `${prefix}-box`;
      const c = await docker.createContainer({
        name,
        Image: LAB_IMAGE,
        Cmd: ['sleep', '600'],
        Labels: { 'cirt.lab.prefix': prefix },
      });
      await c.start();
      let rows = await rec.until(`${name} running`, (r) =>
        r.some((x) => x.name === name && x.state === 'running'),
      );
      expect(rows.find((x) => x.name === name)).toMatchObject({
        image: LAB_IMAGE,
        networks: [expect.objectContaining({ name: 'bridge' })],
      });

      // Waits shorter than the adapter's 10 s periodic refresh: only the event stream can meet them.
      const EVENT_DRIVEN_MS = 5_000;
      await c.pause();
      await rec.until(
        `${name} paused`,
        (r) => r.some((x) => x.name === name && x.state === 'paused'),
        EVENT_DRIVEN_MS,
      );

      // Quarantined the way contain:network-isolate does it: the case is read back from the endpoint alias.
      const q = await docker.createNetwork({
        Name: `${prefix}-quarantine`,
        Internal: true,
        Labels: { [QUARANTINE_LABEL]: '1', 'cirt.lab.prefix': prefix },
      });
      await docker
        .getNetwork(q.id)
        .connect({ Container: c.id, EndpointConfig: { Aliases: [`cirt-case-${prefix}-case`] } });
      rows = await rec.until(
        `${name} quarantined`,
        (r) => r.some((x) => x.name === name && x.quarantinedBy !== undefined),
        EVENT_DRIVEN_MS,
      );
      expect(rows.find((x) => x.name === name)?.quarantinedBy).toBe(`${prefix}-case`);

      await c.remove({ force: true });
      await rec.until(`${name} gone`, (r) => !r.some((x) => x.name === name), EVENT_DRIVEN_MS);
      expect(rec.errors).toEqual([]);
    } finally {
      stop();
    }
  }, 90_000);
});
