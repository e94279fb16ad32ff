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

/** `64MiB`, `64M`, `1.5GiB`, `4096` → bytes (binary units throughout); undefined for anything else. */
export function parseBudget(v: number | string): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(v.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  const bytes = Math.round(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A playbook param holding a byte budget: a number of bytes or a string like "256MiB". */
export function byteBudget(def: string, description: string) {
  return z
    .union([z.number().int().min(0), z.string()])
    .default(def)
    .transform((v, ctx) => {
      const n = parseBudget(v);
      if (n === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${String(v)}" is not a byte size: use a number of bytes or e.g. "64MiB", "2GiB"`,
        });
        return z.NEVER;
      }
      return n;
    })
    .describe(`${description} (bytes, or e.g. "64MiB", "2GiB")`);
}
