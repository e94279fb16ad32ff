import { spawn } from 'node:child_process';
import net from 'node:net';

/**
 * Running a host program inside a container's network namespace, entered from the host
 * (`nsenter -t <pid> -n`): only the network namespace is joined, so the program, its libraries and
 * its view of the filesystem are the host's, never the container's (whose tools are the attacker's),
 * and nothing is exec'd in the container (the engine sees no exec, a paused container is fine).
 */

export interface NetnsResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const KEEP = 256 * 1024;

/** Runs `argv` in the network namespace of host pid `pid`, with `stdin` fed to it. */
export function runInNetns(
  pid: number,
  argv: string[],
  o: { stdin?: string; timeoutMs?: number } = {},
): Promise<NetnsResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', ['-t', String(pid), '-n', '--', ...argv], {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: o.timeoutMs ?? 10_000,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      if (stdout.length < KEEP) stdout += c.toString('utf8');
    });
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < KEEP) stderr += c.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(o.stdin ?? '');
  });
}

/** How a TCP connect ended: it was answered (connected or refused: packets went both ways), or not. */
export type ProbeResult = 'connected' | 'refused' | 'timeout' | `error ${string}`;

// Run by the node binary itself under nsenter: no tool of the container's, no shell.
const PROBE_SCRIPT = `const [h,p,t]=process.argv.slice(1);const s=require('net').connect({host:h,port:+p});
const out=(r)=>{process.stdout.write(r);process.exit(0)};setTimeout(()=>out('timeout'),+t);
s.on('connect',()=>out('connected'));s.on('error',(e)=>out(e.code==='ECONNREFUSED'?'refused':'error '+e.code));`;

/** A TCP connect from inside the namespace of `pid` to `ip:port`, given up after `timeoutMs`. */
export async function probeFromNetns(
  pid: number,
  ip: string,
  port: number,
  timeoutMs: number,
): Promise<ProbeResult> {
  const r = await runInNetns(
    pid,
    [process.execPath, '-e', PROBE_SCRIPT, ip, String(port), String(timeoutMs)],
    { timeoutMs: timeoutMs + 5_000 },
  );
  const out = r.stdout.trim();
  if (out === 'connected' || out === 'refused' || out === 'timeout' || out.startsWith('error '))
    return out as ProbeResult;
  return `error the probe did not run (exit ${r.code}: ${r.stderr.trim().slice(0, 200)})`;
}

/** A TCP connect from this host's own namespace (a published port, from outside the container). */
export function probeFromHost(ip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    const done = (r: ProbeResult): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    s.on('connect', () => done('connected'));
    s.on('error', (e: NodeJS.ErrnoException) =>
      done(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code ?? e.message}`),
    );
  });
}
