import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type Docker from 'dockerode';
import { FailureError } from '../errors.js';
import { engineMessage, engineStatus } from './errors.js';
import { safeText } from '../util/sanitize.js';
import { FrameDemuxer, frameRouter } from './demux.js';
import { BoundedBuffer } from '../util/streams.js';

export interface HelperOptions {
  targetId: string;
  targetName: string;
  /** Image to run; it needs /bin/sh and whatever the script calls. */
  image: string;
  /** Shell script run as `/bin/sh -c script`. */
  script: string;
  /** Receives the helper's stdout (demuxed); ended when the helper exits. */
  stdout: Writable;
  labels?: Record<string, string>;
  signal: AbortSignal;
  timeoutMs?: number;
  /** Container name (from helperName), when the caller must name it before it runs. */
  name?: string;
  /** Capabilities beyond SYS_PTRACE (NET_ADMIN for egress rules in the joined namespace). */
  capAdd?: string[];
}

export interface HelperResult {
  id: string;
  name: string;
  image: string;
  exitCode: number;
  /** The first 4 KiB of its stderr, for error messages. */
  stderr: string;
}

const STDERR_KEEP = 4096;

/** A fresh helper container name for this target. */
export function helperName(targetId: string): string {
  return `cirt-helper-${targetId.slice(0, 12)}-${randomBytes(3).toString('hex')}`;
}

/**
 * Runs a short-lived container inside the target's network and pid namespaces, for when the
 * host's /proc is out of reach (remote engine). It never execs into the target (that is refused
 * on a paused container and would run in the suspect's own filesystem). The helper writes only
 * to its own tmpfs, logs nothing to the engine, and is removed whatever happens.
 */
export async function runNamespaceHelper(docker: Docker, o: HelperOptions): Promise<HelperResult> {
  const name = o.name ?? helperName(o.targetId);
  let container: Docker.Container;
  try {
    container = await docker.createContainer({
      name,
      Image: o.image,
      Entrypoint: ['/bin/sh'],
      Cmd: ['-c', o.script],
      User: '0',
      Tty: false,
      AttachStdout: true,
      AttachStderr: true,
      Labels: { 'cirt.helper': '1', 'cirt.target': o.targetId, ...o.labels },
      HostConfig: {
        NetworkMode: `container:${o.targetId}`,
        PidMode: `container:${o.targetId}`,
        AutoRemove: true,
        ReadonlyRootfs: true,
        Tmpfs: { '/cirt': 'rw,size=256m,mode=700' },
        // Reading other users' /proc/<pid>/fd needs ptrace rights; nothing else unless the caller asks.
        CapAdd: ['SYS_PTRACE', ...(o.capAdd ?? [])],
        LogConfig: { Type: 'none', Config: {} },
      },
    });
  } catch (err) {
    const missing = engineStatus(err) === 404;
    throw new FailureError(
      `cannot create a helper container from image ${safeText(o.image)} for ${safeText(o.targetName)}: ${engineMessage(err)}`,
      {
        hint: missing
          ? 'The image is not on the engine (no registry is used): pass `helperImage:` naming a local image that has /bin/sh, cat, wc and readlink (busybox).'
          : 'Check that the target is running or paused; a stopped container has no namespaces to join.',
        cause: err,
      },
    );
  }
  const stderr = new BoundedBuffer(STDERR_KEEP);
  const errSink = stderr.sink();
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 120_000);
  const signal = AbortSignal.any([o.signal, timeout]);
  const kill = (): void => void container.remove({ force: true }).catch(() => undefined);
  signal.addEventListener('abort', kill, { once: true });
  try {
    const stream = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadableStream;
    const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    // Awaited below; this only keeps an early rejection from being reported as unhandled.
    exited.catch(() => undefined);
    await container.start().catch((err: unknown) => {
      throw new FailureError(
        `helper container ${name} (image ${safeText(o.image)}) for ${safeText(o.targetName)} did not start: ${engineMessage(err)}`,
        {
          hint: 'The helper image needs /bin/sh, cat, wc and readlink (busybox has them): pass `helperImage:` naming such a local image.',
          cause: err,
        },
      );
    });
    const work = (async () => {
      await pipeline(
        stream,
        new FrameDemuxer(),
        frameRouter({ stdout: o.stdout, stderr: errSink }),
      );
      const { StatusCode } = await exited;
      o.stdout.end();
      await finished(o.stdout);
      return StatusCode;
    })();
    work.catch(() => undefined);
    // A removed helper's attach stream or wait may never settle: the timeout (or interrupt) ends the wait itself.
    const stopped = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason as Error);
      signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
    });
    stopped.catch(() => undefined);
    const StatusCode = await Promise.race([work, stopped]);
    return { id: container.id, name, image: o.image, exitCode: StatusCode, stderr: stderr.text() };
  } catch (err) {
    if (!o.stdout.writableEnded) o.stdout.destroy();
    if (signal.aborted) {
      const why = timeout.aborted
        ? `did not finish within ${Math.round((o.timeoutMs ?? 120_000) / 1000)} s`
        : 'was interrupted';
      throw new FailureError(`helper container ${name} for ${safeText(o.targetName)} ${why}`, {
        hint: 'It was removed; re-run the step.',
        cause: err,
      });
    }
    throw err;
  } finally {
    signal.removeEventListener('abort', kill);
    // AutoRemove usually got there first: 404 / 409 (removal in progress) are fine.
    await container.remove({ force: true }).catch((err: unknown) => {
      const s = engineStatus(err);
      if (s !== 404 && s !== 409) throw err;
    });
  }
}
