import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { PreconditionError } from '../errors.js';
import { containerName } from '../docker/inspect.js';

export const containPause = defineAction({
  name: 'contain:pause',
  description: 'Freeze every process of the container with the cgroup freezer (processes cannot notice). Evidence can still be collected from the host.',
  example: '- uses: contain:pause',
  params: z.strictObject({}),
  mutates: true,
  plan: (_p, t) => `freeze all processes of ${t.name} (cgroup freezer); undo with contain:unpause or cirt release`,
  async check(ctx) {
    const info = await ctx.inspect();
    if (!info.State.Running) throw new PreconditionError(`container ${containerName(info)} is ${info.State.Status}, not running: nothing to pause`);
  },
  async run(ctx) {
    const info = await ctx.inspect();
    const name = containerName(info);
    if (info.State.Paused) return { status: 'noop', summary: `${name} is already paused` };
    await ctx.docker.getContainer(info.Id).pause();
    return { status: 'ok', summary: `paused ${name}`, details: { paused: true } };
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
    const info = await ctx.inspect();
    const name = containerName(info);
    if (!info.State.Paused) return { status: 'noop', summary: `${name} is not paused` };
    await ctx.docker.getContainer(info.Id).unpause();
    return { status: 'ok', summary: `unpaused ${name}`, details: { paused: false } };
  },
});
