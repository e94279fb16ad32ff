import { registry } from '../../actions/index.js';
import { CirtError, EXIT } from '../../errors.js';
import {
  PlaybookError,
  formatProblem,
  loadPlaybook,
  resolvePlaybookPath,
} from '../../playbook/load.js';
import { orderWarnings } from '../../playbook/order.js';
import { safeText } from '../../util/sanitize.js';
import { println, type CommandIO } from '../io.js';

/** `cirt validate <playbook…>`: checks every file, reports every problem, touches no engine. */
export async function validateCommand(
  refs: string[],
  o: { json?: boolean },
  io: CommandIO,
): Promise<number> {
  let bad = 0;
  const results: {
    playbook: string;
    ok: boolean;
    problems: unknown[];
    warnings?: unknown[];
    steps?: number;
  }[] = [];
  for (const ref of refs) {
    try {
      const pb = loadPlaybook(resolvePlaybookPath(ref, io.cwd), registry);
      const warnings = orderWarnings(pb);
      results.push({ playbook: ref, ok: true, problems: [], warnings, steps: pb.steps.length });
      if (!o.json) {
        println(
          io.out,
          `✔ ${safeText(ref)}: ${pb.steps.length} steps (${safeText(pb.steps.map((s) => s.id).join(', '))})`,
        );
        for (const w of warnings) println(io.err, `  ! warning: ${formatProblem(w)}`);
      }
    } catch (err) {
      bad++;
      if (err instanceof PlaybookError) {
        results.push({ playbook: ref, ok: false, problems: err.problems });
        if (!o.json) {
          println(io.err, `✖ ${safeText(ref)}: ${err.problems.length} problem(s)`);
          for (const p of err.problems) println(io.err, `  ${formatProblem(p)}`);
        }
      } else if (err instanceof CirtError) {
        results.push({ playbook: ref, ok: false, problems: [{ message: err.message }] });
        if (!o.json) println(io.err, `✖ ${safeText(ref)}: ${safeText(err.message)}`);
      } else throw err;
    }
  }
  if (o.json) println(io.out, JSON.stringify({ ok: bad === 0, results }));
  return bad ? EXIT.usage : EXIT.ok;
}
