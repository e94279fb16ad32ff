import readline from 'node:readline';
import { rawTerminal, type CommandIO } from './io.js';

/**
 * Asks a yes/no question on the terminal; only `y`/`yes` is yes (Enter, Ctrl-C and Ctrl-D are no):
 * the safe default changes nothing. The question must already be made safe.
 */
export function askYesNo(question: string, io: CommandIO): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: rawTerminal(io.err) });
  return new Promise((resolve) => {
    let done = false;
    const finish = (yes: boolean): void => {
      if (done) return;
      done = true;
      rl.close();
      resolve(yes);
    };
    rl.on('SIGINT', () => {
      io.err.write('\n');
      finish(false);
    });
    rl.on('close', () => finish(false));
    rl.question(question, (text) => finish(/^\s*y(es)?\s*$/i.test(text)));
  });
}
