import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';

const PING_TIMEOUT_MS = 5_000;

/**
 * The Docker engine for integration tests (DOCKER_HOST, else the default socket). Throws rather than
 * skipping when it is missing: under CI an absent engine must fail the run, not quietly pass it.
 */
export async function requireEngine(): Promise<Docker> {
  const where = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  let docker: Docker;
  let timer: NodeJS.Timeout | undefined;
  try {
    docker = new Docker();
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${PING_TIMEOUT_MS} ms`)),
          PING_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (err) {
    throw new Error(
      `Integration tests need a running Docker engine, but ${where} did not answer /_ping ` +
        `(${(err as Error).message}). Start one, e.g. as root: \`apt-get install -y docker.io && ` +
        `(dockerd >/var/log/dockerd.log 2>&1 &)\` and wait until \`curl --unix-socket /var/run/docker.sock ` +
        `http://x/_ping\` prints OK; or point DOCKER_HOST at a reachable engine.`,
    );
  } finally {
    clearTimeout(timer);
  }
  return docker;
}

/** A per-test name prefix for containers and networks, e.g. `cirt-t-lab-3f9a`. */
export function uniquePrefix(name: string): string {
  const slug =
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 24) || 't';
  return `cirt-t-${slug}-${randomBytes(2).toString('hex')}`;
}
