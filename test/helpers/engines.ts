import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { requireEngine } from './engine.js';

/** The list scripts/extra-engines.sh writes. */
const LIST = '/run/cirt-engines/engines.json';
const SCRIPT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../scripts/extra-engines.sh',
);

export interface TestEngine {
  /** The name tests give it (its docker context name). */
  name: string;
  docker: Docker;
  /** The address cirt reaches it at (`unix:///…`, or the TLS one's `tcp://127.0.0.1:PORT`). */
  host: string;
  /** Client TLS files (the TLS engine only). */
  tls?: { ca: string; cert: string; key: string };
}

/** The three engines of the multi-engine tests: the main one, a second local one, a TLS one on tcp. */
export interface ThreeEngines {
  main: TestEngine;
  local: TestEngine;
  tls: TestEngine;
}

interface Listed {
  name: string;
  socket: string;
  tls?: { host: string; ca: string; cert: string; key: string };
}

/**
 * The main engine and two extra dockerds (scripts/extra-engines.sh, started here when they are not
 * up), each with the lab image copied in from the main engine. Throws (never skips) when they cannot
 * be had: under CI a missing engine must fail the run.
 */
export async function requireThreeEngines(): Promise<ThreeEngines> {
  const mainDocker = await requireEngine();
  // The lab image is built on the main engine and copied from there: nothing is downloaded.
  await ensureImage(mainDocker);
  let listed = readList();
  if (!listed || !(await allAnswer(listed))) {
    try {
      execFileSync('bash', [SCRIPT, 'start'], { stdio: 'pipe', timeout: 180_000 });
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      throw new Error(
        `Multi-engine tests need the extra engines of scripts/extra-engines.sh, which failed: ${e.stderr?.toString() || e.message}`,
      );
    }
    listed = readList();
  }
  const l = listed?.find((x) => !x.tls);
  const t = listed?.find((x) => x.tls);
  if (!l || !t?.tls)
    throw new Error(`${LIST} lists no local and TLS engine: run \`bash ${SCRIPT}\``);
  const local = new Docker({ socketPath: l.socket.replace(/^unix:\/\//, '') });
  const tlsFiles = { ca: t.tls.ca, cert: t.tls.cert, key: t.tls.key };
  const [, port] = /:(\d+)$/.exec(t.tls.host) ?? [];
  const tls = new Docker({
    host: '127.0.0.1',
    port: Number(port),
    protocol: 'https',
    ca: fs.readFileSync(tlsFiles.ca),
    cert: fs.readFileSync(tlsFiles.cert),
    key: fs.readFileSync(tlsFiles.key),
  });
  await Promise.all([
    copyImage(mainDocker, local, LAB_IMAGE),
    copyImage(mainDocker, tls, LAB_IMAGE),
  ]);
  return {
    main: { name: 'default', docker: mainDocker, host: 'unix:///var/run/docker.sock' },
    local: { name: l.name, docker: local, host: l.socket },
    tls: { name: t.name, docker: tls, host: t.tls.host, tls: tlsFiles },
  };
}

function readList(): Listed[] | undefined {
  try {
    return JSON.parse(fs.readFileSync(LIST, 'utf8')) as Listed[];
  } catch {
    return undefined;
  }
}

async function allAnswer(listed: Listed[]): Promise<boolean> {
  const ok = await Promise.all(
    listed.map((x) =>
      new Docker({ socketPath: x.socket.replace(/^unix:\/\//, '') })
        .ping()
        .then(() => true)
        .catch(() => false),
    ),
  );
  return ok.every(Boolean);
}

/** `docker save | docker load` through the API, when the extra engine lacks the image. */
export async function copyImage(from: Docker, to: Docker, tag: string): Promise<void> {
  try {
    await to.getImage(tag).inspect();
    return;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 404) throw err;
  }
  const tar = await from.getImage(tag).get();
  const res = await to.loadImage(tar, { quiet: true });
  await new Promise<void>((resolve, reject) => {
    res.on('error', reject);
    res.on('end', resolve);
    res.resume();
  });
}

/**
 * A docker CLI config folder (for DOCKER_CONFIG) with one context per engine, laid out as the CLI
 * writes it: contexts/meta/<sha256>/meta.json and the TLS files under contexts/tls/<sha256>/docker/.
 */
export function writeDockerConfig(
  contexts: { name: string; host: string; tls?: { ca: string; cert: string; key: string } }[],
  current?: string,
): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-docker-config-'));
  fs.writeFileSync(
    path.join(dir, 'config.json'),
    JSON.stringify(current ? { currentContext: current } : {}),
  );
  for (const c of contexts) {
    const id = createHash('sha256').update(c.name).digest('hex');
    const meta = path.join(dir, 'contexts', 'meta', id);
    fs.mkdirSync(meta, { recursive: true });
    fs.writeFileSync(
      path.join(meta, 'meta.json'),
      JSON.stringify({
        Name: c.name,
        Metadata: {},
        Endpoints: { docker: { Host: c.host, SkipTLSVerify: false } },
      }),
    );
    if (c.tls) {
      const tls = path.join(dir, 'contexts', 'tls', id, 'docker');
      fs.mkdirSync(tls, { recursive: true });
      fs.copyFileSync(c.tls.ca, path.join(tls, 'ca.pem'));
      fs.copyFileSync(c.tls.cert, path.join(tls, 'cert.pem'));
      fs.copyFileSync(c.tls.key, path.join(tls, 'key.pem'));
    }
  }
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The environment a CLI run gets: the test's DOCKER_CONFIG, no DOCKER_HOST / DOCKER_CONTEXT of the
 * caller's shell, and no cirt config of the caller's home.
 */
export function engineEnv(dockerConfig: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig };
  delete env.DOCKER_HOST;
  delete env.DOCKER_CONTEXT;
  delete env.DOCKER_TLS_VERIFY;
  delete env.DOCKER_CERT_PATH;
  delete env.CIRT_CONFIG;
  env.XDG_CONFIG_HOME = path.join(dockerConfig, 'no-xdg');
  return { ...env, ...extra };
}
