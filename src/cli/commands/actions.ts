import { z } from 'zod';
import { registry } from '../../actions/index.js';
import { needsOf, type AnyAction } from '../../runner/action.js';
import { UserError } from '../../errors.js';
import { didYouMean } from '../../util/closest.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/** `cirt actions [NAME]`: the registry as documentation (one action when named). */
export async function actionsCommand(
  o: { json?: boolean; name?: string },
  io: CommandIO,
): Promise<number> {
  const name = o.name;
  if (name && !registry.get(name)) {
    const names = registry.names();
    // `pause` for `contain:pause`: the verb alone names it when only one action has it.
    const byVerb = names.filter((n) => n.endsWith(`:${name}`));
    if (byVerb.length !== 1)
      throw new UserError(`Unknown action "${safeText(name)}"${didYouMean(name, names)}`, {
        hint: '`cirt actions` lists every action.',
      });
  }
  const wanted = name
    ? (registry.get(name)?.name ?? registry.names().find((n) => n.endsWith(`:${name}`)))
    : undefined;
  const list = registry
    .list()
    .filter((a) => !wanted || a.name === wanted)
    .map((a) => ({
      name: a.name,
      description: a.description,
      mutates: a.mutates,
      confirmByDefault: Boolean(a.confirmByDefault),
      params: z.toJSONSchema(a.params, { io: 'input', unrepresentable: 'any' }),
      needs: describeNeeds(a),
      ...(a.undo ? { undo: a.undo.action } : {}),
      example: a.example.trim(),
    }));
  if (o.json) {
    println(io.out, JSON.stringify(wanted ? list[0] : list, null, 2));
    return 0;
  }
  for (const a of list) {
    const tags = [
      a.mutates ? 'changes the container' : 'read-only',
      a.confirmByDefault ? 'asks for approval' : '',
    ]
      .filter(Boolean)
      .join(', ');
    println(io.out, `${a.name}  [${tags}]`);
    println(io.out, `  ${a.description}`);
    const props =
      (
        a.params as {
          properties?: Record<
            string,
            { type?: unknown; enum?: unknown[]; description?: string; default?: unknown }
          >;
        }
      ).properties ?? {};
    const names = Object.keys(props);
    // Say "none" rather than leave the reader wondering whether `with:` takes anything.
    println(io.out, names.length ? '  params:' : '  params: none');
    for (const n of names) {
      const p = props[n];
      const type = p.enum
        ? `one of ${p.enum.map(String).join('|')}`
        : Array.isArray(p.type)
          ? p.type.join('|')
          : (p.type ?? 'any');
      println(
        io.out,
        `    ${n} (${String(type)}${p.default !== undefined ? `, default ${JSON.stringify(p.default)}` : ''})${p.description ? ` — ${p.description}` : ''}`,
      );
    }
    println(
      io.out,
      `  needs: ${a.needs.list.join(', ') || 'nothing of the runtime (reads the case folder)'}${a.needs.dependsOnParams ? ' (with the default params; other params may need more)' : ''}`,
    );
    if (a.undo) println(io.out, `  undo: ${a.undo} (by cirt release --case <id>)`);
    println(io.out, '  example:');
    for (const line of a.example.split('\n')) println(io.out, `    ${line}`);
    println(io.out);
  }
  return 0;
}

/** What an action needs of the runtime; for needs that depend on the params, with the defaults. */
function describeNeeds(a: AnyAction): { list: readonly string[]; dependsOnParams: boolean } {
  if (typeof a.needs !== 'function') return { list: a.needs, dependsOnParams: false };
  const defaults = a.params.safeParse({});
  return { list: defaults.success ? needsOf(a, defaults.data) : [], dependsOnParams: true };
}
