import { z } from 'zod';
import { defineAction } from '../runner/action.js';
import { NotApplicableError, PreconditionError } from '../errors.js';

export const containPause = defineAction({
  name: 'contain:pause',
  description:
    'Freeze every process of the container with the cgroup freezer (processes cannot notice). Evidence can still be collected from the host.',
  example: '- uses: contain:pause',
  params: z.strictObject({}),
  mutates: true,
  plan: (_p, t) =>
    `freeze all processes of ${t.name} (cgroup freezer); undo with contain:unpause or cirt release`,
  needs: ['inspect', 'pause'],
  async check(ctx) {
    const facts = await ctx.facts();
    if (!facts.state.running) {
      const Err = facts.state.status === 'restarting' ? PreconditionError : NotApplicableError;
      throw new Err(
        `container ${facts.name} is ${facts.state.status}, not running: it has no processes to pause`,
      );
    }
  },
  async run(ctx) {
    const facts = await ctx.facts();
    const name = facts.name;
    if (facts.state.paused) return { status: 'noop', summary: `${name} is already paused` };
    await ctx.runtime.pause(facts);
    return { status: 'ok', summary: `paused ${name}`, details: { paused: true } };
  },
  undo: {
    action: 'release:unpause',
    key: 'paused',
    label: 'the pause',
    order: 4,
    tracks: 'state',
    alsoClearedBy: ['contain:unpause'],
    /** Unpauses the container if the case paused it and it is still paused. */
    async run({ runtime, facts }, { applied }) {
      if (!applied)
        return {
          result: 'noop',
          message: 'the case did not pause the container (or unpaused it already)',
          warnings: [],
        };
      if (!facts.state.paused)
        return {
          result: 'noop',
          message: `container is ${facts.state.status}, not paused`,
          warnings: [],
        };
      await runtime.unpause(facts);
      return { result: 'ok', message: 'unpaused', warnings: [] };
    },
  },
});

export const containUnpause = defineAction({
  name: 'contain:unpause',
  description: 'Thaw a container frozen by contain:pause.',
  example: '- uses: contain:unpause',
  params: z.strictObject({}),
  mutates: true,
  plan: (_p, t) => `resume the processes of ${t.name}`,
  needs: ['inspect', 'pause'],
  async run(ctx) {
    const facts = await ctx.facts();
    const name = facts.name;
    if (!facts.state.paused) return { status: 'noop', summary: `${name} is not paused` };
    await ctx.runtime.unpause(facts);
    return { status: 'ok', summary: `unpaused ${name}`, details: { paused: false } };
  },
});
