import { z } from 'zod';
import { defineMatcher, type Match } from '../matcher.js';

const regex = z.string().refine((s) => {
  try {
    new RegExp(s, 'i');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

/**
 * Environment variables whose name looks like a secret. The value is never copied into the finding:
 * only its length says it is there (the inspect artifact itself of course still holds it).
 */
export const envMatcher = defineMatcher({
  kind: 'env',
  description:
    'environment variables with secret-looking names (container config; values redacted)',
  params: z.strictObject({
    secretNamePattern: regex,
    ignoreNamePattern: regex.optional(),
    ignoreEmpty: z.boolean().default(true),
  }),
  match(p, ev) {
    const name = new RegExp(p.secretNamePattern, 'i');
    const ignore = p.ignoreNamePattern ? new RegExp(p.ignoreNamePattern, 'i') : undefined;
    const out: Match[] = [];
    const doc = ev.inspect ?? ev.imageInspect;
    const env: unknown = doc?.doc.Config?.Env;
    if (!doc || !Array.isArray(env)) return out;
    env.forEach((item, entry) => {
      if (typeof item !== 'string') return;
      const eq = item.indexOf('=');
      const key = eq === -1 ? item : item.slice(0, eq);
      const value = eq === -1 ? '' : item.slice(eq + 1);
      if (!name.test(key) || ignore?.test(key) || (p.ignoreEmpty && !value)) return;
      out.push({
        key,
        summary: `environment variable ${key} holds a secret (value redacted, ${value.length} characters)`,
        evidence: [{ artifact: doc.artifact, ref: { entry, field: 'Config.Env' } }],
      });
    });
    return out;
  },
});
