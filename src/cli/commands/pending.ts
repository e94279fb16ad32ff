import { UserError, EXIT } from '../../errors.js';
import { responder } from '../../evidence/case-store.js';
import { callService, listPending } from '../../serve/client.js';
import { loadServeConfig } from '../../serve/config.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/** The config `cirt pending|approve|reject` reach the service by: --config, else CIRT_SERVE_CONFIG. */
function configOf(o: { config?: string }, io: CommandIO) {
  const file = o.config ?? io.env.CIRT_SERVE_CONFIG;
  if (!file)
    throw new UserError('No service config given', {
      hint: 'Pass --config FILE (the one `cirt serve` runs with), or set CIRT_SERVE_CONFIG.',
    });
  return loadServeConfig(file, io.cwd);
}

/** `cirt pending`: the steps the running service waits on a human for. */
export async function pendingCommand(
  o: { config?: string; json?: boolean; tui?: boolean },
  io: CommandIO,
): Promise<number> {
  const cfg = configOf(o, io);
  if (o.tui) {
    if (!io.interactive)
      throw new UserError('The Pending screen needs a terminal', {
        hint: 'Run `cirt pending` without --tui for the list.',
      });
    // Ink is loaded only for the screen: the plain list stays quick.
    const { launchPending } = await import('../../tui/pending-app.js');
    return launchPending({
      stdout: process.stdout,
      stdin: process.stdin,
      services: {
        load: () => listPending(cfg),
        decide: async (id, decision) => {
          const by = responder();
          const r = await callService(cfg, 'POST', `/pending/${id}/${decision}`, {
            by: `${by} (TUI)`,
          });
          return r.status === 200
            ? `${decision === 'approve' ? 'Approved' : 'Rejected'} ${id} as ${by}`
            : `${id}: ${JSON.stringify(r.json)}`;
        },
      },
    });
  }
  const items = await listPending(cfg);
  if (o.json) {
    println(io.out, JSON.stringify({ pending: items }));
    return EXIT.ok;
  }
  if (!items.length) println(io.out, 'Nothing is waiting for approval.');
  for (const p of items)
    println(
      io.out,
      safeText(
        `${p.id}  ${p.container.name} (${p.container.id.slice(0, 12)})  step "${p.step.id}" ${p.step.uses}: ${p.step.plan}  case ${p.caseId ?? '-'}  rule "${p.rule}"  since ${p.since}, default at ${p.expiresAt}`,
      ),
    );
  return EXIT.ok;
}

/** `cirt approve ID` / `cirt reject ID`: the answer, with who gave it, goes into the case's custody. */
export async function decideCommand(
  decision: 'approve' | 'reject',
  id: string,
  o: { config?: string; by?: string },
  io: CommandIO,
): Promise<number> {
  if (!/^[0-9a-f]{1,32}$/.test(id))
    throw new UserError(`"${safeText(id)}" is not a pending id`, {
      hint: 'Run `cirt pending` for the ids.',
    });
  const by = o.by ?? responder();
  const r = await callService(configOf(o, io), 'POST', `/pending/${id}/${decision}`, { by });
  if (r.status === 404)
    throw new UserError(`No step ${id} is waiting for approval (answered, timed out, or never)`, {
      hint: 'Run `cirt pending` for what is waiting.',
    });
  if (r.status !== 200)
    throw new UserError(`cirt serve answered ${r.status}: ${safeText(JSON.stringify(r.json))}`, {
      hint: 'Check the token_file of the config.',
    });
  println(io.out, `${decision === 'approve' ? 'Approved' : 'Rejected'} ${id} as ${safeText(by)}.`);
  return EXIT.ok;
}
