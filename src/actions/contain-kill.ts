import { z } from 'zod';
import { RECORD_PATHS, containerRef } from '../containment/records.js';
import { defineAction } from '../runner/action.js';
import { checkStoppable, recordStop } from './contain-stop.js';
import { signalParam } from './signals.js';

export const containKill = defineAction({
  name: 'contain:kill',
  description:
    'Send a signal to the main process of the container (default SIGKILL: it dies at once, without a chance to clean up). ' +
    'Destroys memory and process state; asks for approval unless the step says `confirm: false`. The engine unpauses a ' +
    'paused container to deliver any signal but SIGKILL.',
  example: ['- id: kill', '  uses: contain:kill', '  with:', '    signal: SIGKILL'].join('\n'),
  params: z.strictObject({
    signal: signalParam
      .default('SIGKILL')
      .describe('Signal to send, by name (SIGKILL, SIGTERM, …) or number.'),
  }),
  mutates: true,
  confirmByDefault: true,
  plan: (p, t) =>
    `send ${p.signal} to ${t.name}${/^(SIG)?KILL$|^9$/.test(p.signal) ? ': its processes die at once and their memory is lost' : ''}`,
  needs: ['inspect', 'kill'],
  check: checkStoppable,
  async run(ctx, p) {
    const facts = await ctx.facts();
    const ref = containerRef(facts);
    if (!facts.state.running)
      return {
        status: 'noop',
        summary: `${ref.name} is already ${facts.state.status}: no process to signal`,
      };
    const record = await recordStop(ctx, facts, { kill: { signal: p.signal } }, RECORD_PATHS.kill);
    await ctx.runtime.kill(ref, p.signal);
    const after = (await ctx.runtime.inspect({ id: ref.id, name: '' })).state;
    const state = after.running
      ? `${ref.name} is still ${after.status}`
      : `${ref.name} is ${after.status} (exit code ${after.exitCode})`;
    return {
      status: 'ok',
      summary: `sent ${p.signal}: ${state}`,
      details: { signal: p.signal, state: after.status, exitCode: after.exitCode, record },
    };
  },
});
