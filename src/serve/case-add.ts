import path from 'node:path';
import { lockCase } from '../evidence/case-lock.js';
import { CaseStore } from '../evidence/case-store.js';
import { PostSealCustody } from '../evidence/post-seal-custody.js';
import type { AcceptedAlert } from './alert-store.js';

export const DEDUP_ACTION = 'alert:deduplicated';

function message(a: AcceptedAlert, rule: string): string {
  const al = a.loaded.alert;
  return `another Falco alert for this container within rule "${rule}"'s dedup window: rule "${al.rule}" (${al.priority ?? 'no priority'}) at ${al.time ?? 'unknown time'}, alert ${a.id}`;
}

/** Adds a later alert to a case being written by this service's run (the same store): artifact + custody. */
export async function addToLiveCase(
  store: CaseStore,
  a: AcceptedAlert,
  rule: string,
  actor: string,
): Promise<void> {
  const entry = await store.writeArtifact('alert/falco.json', a.loaded.raw, {
    mediaType: 'application/json',
    source: `falco alert rule=${a.loaded.alert.rule} (cirt serve alert ${a.id})`,
    action: 'serve:alert',
    step: 'alert',
  });
  await store.record({
    actor,
    action: DEDUP_ACTION,
    result: 'info',
    message: message(a, rule),
    artifacts: [{ path: entry.path, sha256: entry.sha256, bytes: entry.bytes }],
    details: { alertId: a.id, receivedAt: a.receivedAt },
  });
}

/**
 * Adds a later alert to a case whose run has ended, under the case lock. An open case takes it as
 * an artifact, as during the run. A sealed case never changes: the alert goes into its post-seal
 * custody (custody.post-seal.jsonl, which continues the sealed chain) with the sha256 of its
 * bytes, and the bytes stay in the service's own alert store (`file`).
 */
export async function addToClosedCase(
  casesDir: string,
  caseId: string,
  a: AcceptedAlert,
  rule: string,
  actor: string,
): Promise<'artifact' | 'post-seal'> {
  const lock = lockCase(casesDir, caseId, 'cirt serve');
  try {
    const root = path.join(casesDir, caseId);
    const store = await CaseStore.open(root);
    if (!store.sealed) {
      await addToLiveCase(store, a, rule, actor);
      return 'artifact';
    }
    const log = PostSealCustody.open(root);
    await log.append({
      actor,
      action: DEDUP_ACTION,
      result: 'info',
      message: `${message(a, rule)}; the case was already sealed, so the alert's bytes are kept by the service at ${a.file}`,
      details: {
        alertId: a.id,
        receivedAt: a.receivedAt,
        sha256: a.sha256,
        bytes: a.loaded.raw.length,
        file: a.file,
      },
    });
    await log.flush();
    return 'post-seal';
  } finally {
    lock.release();
  }
}
