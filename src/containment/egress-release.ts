import fs from 'node:fs/promises';
import { runInNetns } from '../host/netns.js';
import type { ContainerFacts, ContainerRuntime, RestoreOutcome } from '../runtime/types.js';
import { helperExec, localExec, type NetnsExec } from './egress-exec.js';
import { safeText } from '../util/sanitize.js';
import { EGRESS_TABLE, type EgressRecord } from './records.js';

/** Whether the namespace has the nftables table `inet <table>`. */
export async function tableExists(exec: NetnsExec, table: string): Promise<boolean> {
  const r = await exec.nft(['list', 'table', 'inet', table]);
  if (r.code === 0) return true;
  if (/No such file or directory/.test(r.stderr)) return false;
  throw new Error(
    `nft list table inet ${table} failed (exit ${r.code}): ${safeText(r.stderr.trim().slice(0, 300))}`,
  );
}

/** The cirt egress tables in the namespace of host pid `pid` (empty when none, or nft cannot say). */
export async function egressTables(pid: number): Promise<string[]> {
  const r = await runInNetns(pid, ['nft', 'list', 'tables'], { timeoutMs: 3_000 });
  if (r.code !== 0) return [];
  return r.stdout
    .split('\n')
    .map((l) => /^table inet (\S+)$/.exec(l.trim())?.[1])
    .filter((t): t is string => t !== undefined && EGRESS_TABLE.test(t));
}

/** The cases whose egress tables are in the namespace of host pid `pid`. */
export async function egressCases(pid: number): Promise<string[]> {
  if (!pid) return [];
  return (await egressTables(pid)).map((t) => t.slice('cirt-egress-'.length));
}

/**
 * Deletes the tables the records name from the container's namespace, and nothing else. A stopped
 * or restarted container has a new namespace (or none): the rules went with the old one.
 */
export async function releaseEgress(
  runtime: ContainerRuntime,
  facts: ContainerFacts,
  records: EgressRecord[],
): Promise<RestoreOutcome> {
  const tables = [...new Set(records.map((r) => r.table))];
  if (!tables.length)
    return {
      result: 'noop',
      message: 'the case has no egress restriction in effect',
      warnings: [],
    };
  if (!facts.state.pid)
    return {
      result: 'noop',
      message: `container is ${facts.state.status}: its network namespace, and the rules in it, are gone`,
      details: { tables },
      warnings: [],
    };
  const pid = facts.state.pid;
  const local = runtime.capabilities.has('host-proc');
  const image = records.map((r) => r.helperImage).find((i): i is string => Boolean(i));
  if (!local && !image)
    return {
      result: 'failed',
      message: `the engine is remote and the case entered the namespace from its host: run cirt release on the engine host, or there: nsenter -t ${pid} -n nft delete table inet ${tables.join(' / ')}`,
      details: { tables },
      warnings: [],
    };
  const exec = local
    ? localExec(pid)
    : helperExec(runtime, facts, image!, AbortSignal.timeout(120_000), { 'cirt.release': '1' });
  const netns = local ? await fs.readlink(`/proc/${pid}/ns/net`) : null;
  const deleted: string[] = [];
  const absent: string[] = [];
  for (const table of tables) {
    if (!(await tableExists(exec, table))) {
      absent.push(table);
      continue;
    }
    const r = await exec.nft(['delete', 'table', 'inet', table]);
    if (r.code !== 0)
      return {
        result: 'failed',
        message: `nft delete table inet ${table} failed (exit ${r.code}): ${safeText(r.stderr.trim().slice(0, 300))}`,
        details: { tables, deleted },
        warnings: [],
      };
    deleted.push(table);
  }
  const moved = netns !== null && records.some((r) => r.netns !== netns);
  const warnings =
    moved && absent.length
      ? [
          `the container's namespace changed since the rules were applied (restarted?): they went with the old one`,
        ]
      : [];
  return deleted.length
    ? {
        result: 'ok',
        message: `deleted nftables table ${deleted.join(', ')} from the container's namespace: egress restored`,
        details: { deleted, absent, netns },
        warnings,
      }
    : {
        result: 'noop',
        message: `no cirt egress table left in the container's namespace (${absent.join(', ')} already gone)`,
        details: { absent, netns },
        warnings,
      };
}
