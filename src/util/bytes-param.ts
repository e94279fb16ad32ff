import { z } from 'zod';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

/**
 * A byte count as a playbook writes it: a number (`1048576`) or text with a binary unit
 * (`64MiB`, `64m`, `1g`, `512 KiB`). Units are powers of 1024 whichever spelling is used, as in
 * the docker CLI. Returns undefined for anything else (negative, fractional bytes, unknown unit).
 */
export function parseBytes(value: number | string): number | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  if (!m) return undefined;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A zod param for a byte budget (`maxFileBytes: 64MiB`); the parsed value is a number of bytes. */
export function bytesParam(defaultValue: string, what: string) {
  return z
    .union([z.number(), z.string()])
    .default(defaultValue)
    .transform((v, ctx) => {
      const n = parseBytes(v);
      if (n === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `${JSON.stringify(v)} is not a byte size: use a number of bytes or e.g. 64MiB, 512KiB, 2GiB`,
        });
        return z.NEVER;
      }
      return n;
    })
    .describe(`${what} (bytes, or e.g. 64MiB)`);
}
