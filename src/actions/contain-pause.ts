import { z } from 'zod';
import { defineAction } from '../engine/action.js';
import { PreconditionError } from '../engine/errors.js';
import { inspectTarget } from '../docker/target.js';

export const containPause = defineAction({
  name: 'contain:pause',
  description: 'Freeze every process of the container with the cgroup freezer (processes cannot notice). Evidence can still be collected from the host.',
  example: '- uses: contain:pause',
  params: z.strictObject({}),
  mutates: true,
  plan: (_p, t) => `freeze all processes of ${t.name} (cgroup freezer); undo with contain:unpause or cirt release`,
  async check(ctx) {
    const t = await inspectTarget(ctx.docker, ctx.target.id);
    if (!t.running) throw new PreconditionError(`container ${t.name} is ${t.state}, not running: nothing to pause`);
  },
  async run(ctx) {
    const t = await inspectTarget(ctx.docker, ctx.target.id);
    if (t.paused) return { status: 'noop', summary: `${t.name} is already paused` };
    await ctx.docker.getContainer(t.id).pause();
    return { status: 'ok', summary: `paused ${t.name}`, details: { paused: true } };
  },
});

export const containUnpause = defineAction({
  name: 'contain:unpause',
  description: 'Thaw a container frozen by contain:pause.',
  example: '- uses: contain:unpause',
  params: z.strictObject({}),
  mutates: true,
  plan: (_p, t) => `resume the processes of ${t.name}`,
  async run(ctx) {
    const t = await inspectTarget(ctx.docker, ctx.target.id);
    if (!t.paused) return { status: 'noop', summary: `${t.name} is not paused` };
    await ctx.docker.getContainer(t.id).unpause();
    return { status: 'ok', summary: `unpaused ${t.name}`, details: { paused: false } };
  },
});
