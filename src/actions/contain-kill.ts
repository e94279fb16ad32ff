import { z } from 'zod';
import { RECORD_PATHS, containerRef } from '../containment/records.js';
import { inspectContainer } from '../docker/inspect.js';
import { defineAction } from '../runner/action.js';
import { checkStoppable, recordStop } from './contain-stop.js';

export const containKill = defineAction({
  name: 'contain:kill',
  description:
    'Send a signal to the main process of the container (default SIGKILL: it dies at once, without a chance to clean up). ' +
    'Destroys memory and process state; asks for approval unless the step says `confirm: false`. The engine unpauses a ' +
    'paused container to deliver any signal but SIGKILL.',
  example: ['- id: kill', '  uses: contain:kill', '  with:', '    signal: SIGKILL'].join('\n'),
  params: z.strictObject({
    signal: z
      .string()
      .regex(/^(SIG[A-Z0-9+-]{2,16}|[A-Z][A-Z0-9+-]{1,15}|\d{1,2})$/, 'a signal name like SIGKILL or TERM, or a number')
      .default('SIGKILL')
      .describe('Signal to send, by name (SIGKILL, SIGTERM, …) or number.'),
  }),
  mutates: true,
  confirmByDefault: true,
  plan: (p, t) => `send ${p.signal} to ${t.name}${/^(SIG)?KILL$|^9$/.test(p.signal) ? ': its processes die at once and their memory is lost' : ''}`,
  check: checkStoppable,
  async run(ctx, p) {
    const info = await ctx.inspect();
    const ref = containerRef(info);
    if (!info.State.Running) return { status: 'noop', summary: `${ref.name} is already ${info.State.Status}: no process to signal` };
    const record = await recordStop(ctx, info, { kill: { signal: p.signal } }, RECORD_PATHS.kill);
    await ctx.docker.getContainer(ref.id).kill({ signal: p.signal });
    const after = await inspectContainer(ctx.docker, ref.id);
    const state = after.State.Running ? `${ref.name} is still ${after.State.Status}` : `${ref.name} is ${after.State.Status} (exit code ${after.State.ExitCode})`;
    return { status: 'ok', summary: `sent ${p.signal}: ${state}`, details: { signal: p.signal, state: after.State.Status, exitCode: after.State.ExitCode, record } };
  },
});
