import { z } from 'zod';
import type { ProcessInfo } from '../evidence.js';
import { defineMatcher } from '../matcher.js';

const SHELLS = ['sh', 'ash', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'fish', 'csh', 'tcsh'];
const NETCATS = ['nc', 'ncat', 'netcat', 'socat'];
const base = (p: string | null | undefined): string => (p ? p.slice(p.lastIndexOf('/') + 1) : '');
/** The program a process runs as (busybox applets go by argv[0]). */
const names = (p: ProcessInfo): string[] =>
  [p.comm, base(p.exe), base(p.cmdline[0])].filter(Boolean);
const isShell = (p: ProcessInfo): boolean => names(p).some((n) => SHELLS.includes(n));
const isSocket = (t: string | undefined): boolean => Boolean(t && /^socket:\[\d+\]$/.test(t));

/**
 * Shells wired to the network: a shell whose stdin or stdout is a socket (a reverse or bind shell,
 * from the fds collect:processes read on the host), a netcat that runs a program for its peer
 * (`nc -e /bin/sh`, `ncat -c`, socat `EXEC:`), and a shell holding a listening socket.
 */
export const shellSocketMatcher = defineMatcher({
  kind: 'shellSocket',
  description: 'shells whose stdin/stdout is a socket, nc -e / -c, socat EXEC:, listening shells',
  params: z.union([z.literal(true), z.strictObject({})]),
  match(_p, ev) {
    const out: {
      key: string;
      summary: string;
      evidence: { artifact: string; ref: { entry: number } }[];
    }[] = [];
    const procs = ev.processes;
    if (procs) {
      for (const p of procs.list) {
        const cmd = p.cmdline.join(' ') || `[${p.comm}]`;
        const ref = [{ artifact: procs.artifact, ref: { entry: p.entry } }];
        const fd = (n: number) => (p.fds ?? []).find((f) => f.fd === n)?.target;
        if (isShell(p) && (isSocket(fd(0)) || isSocket(fd(1)))) {
          const wired = [0, 1, 2]
            .filter((n) => isSocket(fd(n)))
            .map((n) => ['stdin', 'stdout', 'stderr'][n]);
          out.push({
            key: `fd-${p.pid}`,
            summary: `shell ${p.comm} (pid ${p.nspid ?? p.pid}) has its ${wired.join(', ')} on a socket (${fd(0) ?? fd(1)}): a reverse or bind shell: ${cmd}`,
            evidence: ref,
          });
        } else if (
          names(p).some((n) => NETCATS.includes(n)) &&
          p.cmdline.some(
            (a, i) =>
              a === '-e' ||
              a === '-c' ||
              /^-[a-z]*e$/.test(a) ||
              (i > 0 && /^EXEC:|^SYSTEM:/i.test(a)),
          )
        ) {
          out.push({
            key: `nc-${p.pid}`,
            summary: `${p.comm} (pid ${p.nspid ?? p.pid}) runs a program for whoever connects: ${cmd}`,
            evidence: ref,
          });
        }
      }
    }
    for (const s of ev.sockets) {
      if (s.state !== 'LISTEN' || !s.processes.some((n) => SHELLS.includes(n))) continue;
      out.push({
        key: `listen-${s.phase}-${s.localAddress}:${s.localPort}`,
        summary: `a shell (${s.processes.join(', ')}) listens on ${s.proto} ${s.localAddress}:${s.localPort} [${s.phase}]: a bind shell`,
        evidence: [{ artifact: s.artifact, ref: { entry: s.entry } }],
      });
    }
    return out;
  },
});
