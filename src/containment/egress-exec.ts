import { Writable } from 'node:stream';
import { runInNetns, probeFromNetns, type NetnsResult, type ProbeResult } from '../host/netns.js';
import type { ContainerRef, ContainerRuntime } from '../runtime/types.js';
import { BoundedBuffer } from '../util/streams.js';

/**
 * How contain:restrict-egress reaches the container's network namespace: from this host with
 * nsenter (the engine runs here), or through a helper container joined to it (a remote engine).
 * Either way nothing runs inside the container itself.
 */
export interface NetnsExec {
  /** Provenance of what is read (`nsenter -t 123 -n` or `helper container (image …)`). */
  where: string;
  nft(args: string[], stdin?: string): Promise<NetnsResult>;
  conntrack(): Promise<NetnsResult>;
  /** A TCP connect from inside the namespace. */
  probe(ip: string, port: number, timeoutMs: number): Promise<ProbeResult>;
}

export function localExec(pid: number): NetnsExec {
  return {
    where: `nsenter -t ${pid} -n`,
    nft: (args, stdin) => runInNetns(pid, ['nft', ...args], { stdin }),
    conntrack: () => runInNetns(pid, ['conntrack', '-L']),
    probe: (ip, port, ms) => probeFromNetns(pid, ip, port, ms),
  };
}

const KEEP = 4 * 1024 * 1024;
// Every value put in a script is checked by its caller's schema (nft words, addresses, ports) or
// base64 (the rule text): nothing reaches the shell unquoted.
const word = (s: string): string => {
  if (!/^[A-Za-z0-9._:/-]+$/.test(s)) throw new Error(`not a plain word: ${JSON.stringify(s)}`);
  return s;
};

/**
 * A helper container in the target's namespaces with NET_ADMIN, from an image on the engine that
 * has /bin/sh, nft (and for the flows, conntrack; for the probe, busybox nc and timeout).
 */
export function helperExec(
  runtime: ContainerRuntime,
  target: ContainerRef,
  image: string,
  signal: AbortSignal,
  labels: Record<string, string> = {},
): NetnsExec {
  const sh = async (script: string): Promise<NetnsResult> => {
    const out = new BoundedBuffer(KEEP);
    const r = await runtime.runHelper({
      target,
      image,
      script,
      stdout: new Writable({
        write: (c: Buffer, _e, cb) => {
          out.add(c);
          cb();
        },
      }),
      labels,
      signal,
      timeoutMs: 30_000,
      capAdd: ['NET_ADMIN'],
    });
    return { code: r.exitCode, stdout: out.text(), stderr: r.stderr };
  };
  return {
    where: `helper container (image ${image}) in the namespaces of ${target.name}`,
    nft: (args, stdin) =>
      sh(
        stdin === undefined
          ? `exec nft ${args.map(word).join(' ')}`
          : `echo ${Buffer.from(stdin).toString('base64')} | base64 -d | nft ${args.map(word).join(' ')}`,
      ),
    conntrack: () => sh('exec conntrack -L'),
    async probe(ip, port, ms) {
      const secs = Math.max(1, Math.ceil(ms / 1000));
      const r = await sh(
        `timeout ${secs} nc ${word(ip)} ${Number(port)} </dev/null; echo "exit=$?"`,
      );
      const code = Number(/exit=(\d+)/.exec(r.stdout)?.[1] ?? -1);
      if (code === 0) return 'connected';
      if (/refused/i.test(r.stderr)) return 'refused';
      // timeout's own exit (124), or busybox timeout's signal death (143).
      if (code === 124 || code === 143) return 'timeout';
      return `error the probe exited ${code}: ${r.stderr.trim().slice(0, 200)}`;
    },
  };
}
