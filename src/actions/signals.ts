import { z } from 'zod';
import { didYouMean } from '../util/closest.js';

/** Linux signal names the engine accepts (moby's signal map), without the SIG prefix. */
export const SIGNAL_NAMES = [
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'IO',
  'IOT',
  'KILL',
  'PIPE',
  'POLL',
  'PROF',
  'PWR',
  'QUIT',
  'SEGV',
  'STKFLT',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
] as const;

const RT = /^RTM(IN|AX)(-([1-9]|1[0-5])|\+([1-9]|1[0-5]))?$/;

/** Why a signal the engine would refuse (with a 400, after earlier steps already ran) is wrong; undefined: fine. */
export function signalProblem(raw: string): string | undefined {
  if (/^\d{1,2}$/.test(raw)) {
    const n = Number(raw);
    return n >= 1 && n <= 64 ? undefined : `signal number ${raw} is not between 1 and 64`;
  }
  const name = raw.toUpperCase().replace(/^SIG/, '');
  if ((SIGNAL_NAMES as readonly string[]).includes(name) || RT.test(name)) return undefined;
  return `unknown signal "${raw}"${didYouMean(
    raw,
    SIGNAL_NAMES.map((s) => `SIG${s}`),
  )}`;
}

/** A signal param, checked where the engine would reject it: by name (SIGKILL, TERM) or number. */
export const signalParam = z.preprocess(
  // `signal: 9` in YAML is a number: the engine takes it as text.
  (v) => (typeof v === 'number' ? String(v) : v),
  z.string().superRefine((v, ctx) => {
    const p = signalProblem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  }),
);
