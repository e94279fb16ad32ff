import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { PcapFlows } from './pcap.js';

export interface CaptureOptions {
  /** The container's init pid as the host sees it: its network namespace is joined with nsenter. */
  pid: number;
  seconds: number;
  maxBytes: number;
  maxPackets: number;
  snapLength: number;
  signal: AbortSignal;
  onBytes?: (n: number) => void;
}

export interface CaptureResult {
  flows: PcapFlows;
  /** Bytes written to the pcap (whole records only). */
  bytes: number;
  /** Why the capture stopped before its time, if it did: `byte budget`, `packet budget`. */
  clipped: string | null;
  /** The capture could not run or stopped on an error. */
  error: string | null;
  /** tcpdump's own stderr (its `N packets captured / dropped by kernel` lines), bounded. */
  stderr: string;
  command: string[];
}

/**
 * Runs Debian's tcpdump from the host inside the container's network namespace only (`nsenter -n`:
 * its mount, pid and user namespaces stay the host's, so nothing of the container's is executed) and
 * streams its pcap output into `out`, record by record: a budget cuts at a record boundary, so the
 * file always reads with `tcpdump -r`.
 */
export async function captureTraffic(out: Writable, o: CaptureOptions): Promise<CaptureResult> {
  const command = [
    'nsenter',
    '-t',
    String(o.pid),
    '-n',
    '--',
    'tcpdump',
    '-i',
    'any',
    '-n',
    '-U',
    '-s',
    String(o.snapLength),
    '-c',
    String(o.maxPackets),
    '-w',
    '-',
  ];
  const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const flows = new PcapFlows();
  let bytes = 0;
  let clipped: string | null = null;
  let error: string | null = null;
  let stderr = '';
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    // SIGTERM: tcpdump flushes what it buffered and prints its counts.
    child.kill('SIGTERM');
  };
  const timer = setTimeout(stop, o.seconds * 1000);
  const onAbort = (): void => stop();
  o.signal.addEventListener('abort', onAbort);
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    if (stderr.length < 8192) stderr += c;
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (clipped) return;
    for (const unit of flows.push(chunk)) {
      if (bytes + unit.length > o.maxBytes) {
        clipped = `byte budget (${o.maxBytes} bytes)`;
        stop();
        break;
      }
      bytes += unit.length;
      o.onBytes?.(unit.length);
      if (!out.write(unit)) {
        child.stdout.pause();
        out.once('drain', () => child.stdout.resume());
      }
    }
    if (flows.error) {
      error = `tcpdump's output: ${flows.error}`;
      stop();
    }
  });
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', (err) => {
      error = `could not run ${command[0]}: ${err.message}`;
      resolve(null);
    });
    child.on('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  o.signal.removeEventListener('abort', onAbort);
  if (!clipped && !error && flows.packets >= o.maxPackets)
    clipped = `packet budget (${o.maxPackets} packets)`;
  if (!error && !flows.header)
    error = `tcpdump wrote no pcap header (exit ${code}): ${stderr.trim().slice(0, 300) || 'no message'}`;
  else if (!error && !stopping && code !== 0 && !clipped)
    error = `tcpdump exited with ${code}: ${stderr.trim().slice(0, 300)}`;
  if (!error && flows.pending && !clipped)
    clipped = `a torn last record (${flows.pending} bytes) was left out`;
  return { flows, bytes, clipped, error, stderr: stderr.slice(0, 8192), command };
}
