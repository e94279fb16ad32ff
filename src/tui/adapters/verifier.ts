import { errorMessage } from '../../engine/errors.js';
import type { VerifyOutcome } from '../types.js';

type VerifyFn = (bundle: string) => Promise<unknown>;

/**
 * The bundle verifier lives in src/evidence/verify.ts (the evidence package owns it). It is loaded
 * when first used, so the TUI starts fast and builds even before that module exists.
 */
async function loadVerify(): Promise<VerifyFn | undefined> {
  try {
    const spec = new URL('../../evidence/verify.js', import.meta.url).href;
    const mod = (await import(spec)) as Record<string, unknown>;
    const fn = mod.verifyBundle ?? mod.verify;
    return typeof fn === 'function' ? (fn as VerifyFn) : undefined;
  } catch {
    return undefined;
  }
}

/** Turns whatever the verifier reports into lines for the Case screen. */
export function describeVerification(result: unknown): VerifyOutcome {
  const r = (result ?? {}) as { ok?: unknown; checks?: unknown; problems?: unknown; errors?: unknown; summary?: unknown };
  const lines: string[] = [];
  if (typeof r.summary === 'string') lines.push(r.summary);
  if (Array.isArray(r.checks)) {
    for (const c of r.checks as { name?: unknown; ok?: unknown; detail?: unknown; message?: unknown }[]) {
      lines.push(`${c.ok ? '✔' : '✖'} ${String(c.name ?? '')}${c.detail ?? c.message ? `: ${String(c.detail ?? c.message)}` : ''}`);
    }
  }
  for (const list of [r.problems, r.errors]) if (Array.isArray(list)) for (const p of list) lines.push(`✖ ${typeof p === 'string' ? p : JSON.stringify(p)}`);
  const ok = typeof r.ok === 'boolean' ? r.ok : !lines.some((l) => l.startsWith('✖'));
  return { ok, lines: lines.length ? lines : [ok ? 'bundle verified' : 'bundle did NOT verify'] };
}

/** One-key verify from the Case screen. A thrown error is a failed verification, shown as such. */
export async function verifyBundle(bundle: string): Promise<VerifyOutcome> {
  const fn = await loadVerify();
  if (!fn) return { ok: false, lines: ['This build of cirt has no bundle verifier (src/evidence/verify.ts); use `cirt verify`.'] };
  try {
    return describeVerification(await fn(bundle));
  } catch (err) {
    return { ok: false, lines: [`✖ ${errorMessage(err)}`] };
  }
}
