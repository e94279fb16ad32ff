import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { connect } from '../../src/app/env.js';
import { queryJournal } from '../../src/journal/query.js';
import { startRecorder, type Recorder } from '../../src/journal/recorder.js';
import { verifyJournal } from '../../src/journal/verify.js';
import type { ContainerRuntime } from '../../src/runtime/types.js';
import { waitFor } from '../fixtures/lab.js';

/**
 * A private dockerd, never the shared one: its own data-root, exec-root (hence its own containerd),
 * pidfile and socket, a bridge of its own and no iptables, so restarting it disturbs nobody. Never
 * `--bridge=none`: a dockerd started so deletes the interface docker0 (moby's
 * removeDefaultBridgeInterface), which is the main engine's bridge.
 */
const BRIDGE = 'cirt-brj';

/** The private engine's own bridge, made with ip link (kept between runs, as the extra engines' are). */
function ensureBridge(name: string, cidr: string): void {
  if (spawnSync('ip', ['link', 'show', name]).status !== 0) {
    execFileSync('ip', ['link', 'add', name, 'type', 'bridge']);
    execFileSync('ip', ['addr', 'add', cidr, 'dev', name]);
  }
  execFileSync('ip', ['link', 'set', name, 'up']);
}

/** True when the host has an interface of this name. */
function hasLink(name: string): boolean {
  return spawnSync('ip', ['link', 'show', name]).status === 0;
}

class PrivateEngine {
  proc?: ChildProcess;
  readonly sock: string;
  private readonly log: number;

  constructor(readonly root: string) {
    this.sock = join(root, 'd.sock');
    fs.writeFileSync(join(root, 'daemon.json'), '{}\n');
    this.log = fs.openSync(join(root, 'dockerd.log'), 'a');
  }

  async start(): Promise<void> {
    const r = this.root;
    ensureBridge(BRIDGE, '10.77.99.1/24');
    // A dockerd that finds its old default "bridge" network in its store clears it at start, and
    // that path can remove docker0 too (scripts/extra-engines.sh): start from an empty network store.
    fs.rmSync(join(r, 'data', 'network', 'files', 'local-kv.db'), { force: true });
    this.proc = spawn(
      'dockerd',
      [
        '--config-file',
        join(r, 'daemon.json'),
        '-H',
        `unix://${this.sock}`,
        '--data-root',
        join(r, 'data'),
        '--exec-root',
        join(r, 'x'),
        '--pidfile',
        join(r, 'd.pid'),
        '-b',
        BRIDGE,
        '--iptables=false',
        '--ip-masq=false',
      ],
      { stdio: ['ignore', this.log, this.log] },
    );
    const docker = new Docker({ socketPath: this.sock });
    await waitFor(
      'the private dockerd to answer',
      () => docker.ping().then(() => true),
      60_000,
      200,
    );
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill('SIGTERM');
    await exited;
  }

  tail(): string {
    return fs.readFileSync(join(this.root, 'dockerd.log'), 'utf8').slice(-2000);
  }
}

describe('flight recorder across an engine restart (private dockerd)', () => {
  let engine: PrivateEngine;
  let runtime: ContainerRuntime;
  let recorder: Recorder | undefined;
  let root: string;
  const journal = () => join(root, 'journal');

  const hadDocker0 = hasLink('docker0');

  beforeAll(async () => {
    // Short: the containerd socket under exec-root must fit in a unix socket path.
    root = await mkdtemp('/tmp/cj-');
    engine = new PrivateEngine(root);
    try {
      await engine.start();
    } catch (err) {
      throw new Error(`${(err as Error).message}; dockerd log:\n${engine.tail()}`);
    }
    runtime = await connect({ cwd: root, env: {}, host: `unix://${engine.sock}` });
  }, 90_000);

  afterAll(async () => {
    await recorder?.stop();
    runtime?.close();
    await engine?.stop();
    // Seen here: a private dockerd with --bridge=none deleted the main engine's docker0, and every
    // later test that used the default bridge failed. Whatever this test does, docker0 stays.
    if (hadDocker0 && !hasLink('docker0'))
      throw new Error("the private dockerd removed the main engine's docker0 bridge");
    if (root) await rm(root, { recursive: true, force: true }).catch(() => undefined);
  }, 60_000);

  test('the gap is recorded with its start and end, and recording resumes without duplicates', async () => {
    recorder = await startRecorder({
      runtime,
      engineName: 'private',
      dir: journal(),
      snapshotIntervalMs: 0,
      backoff: { minMs: 100, maxMs: 500 },
    });
    const rec = recorder;
    await waitFor('the recorder to connect', async () => rec.stats().connected);
    const docker = new Docker({ socketPath: engine.sock });
    await docker.createVolume({ Name: 'before-restart' });
    await waitFor('the first event', async () => rec.stats().events >= 1);

    const down = Date.now();
    await engine.stop();
    await waitFor('the recorder to notice', async () => !rec.stats().connected);
    await engine.start();
    await waitFor('the recorder to reconnect', async () => rec.stats().connected, 20_000);
    await docker.createVolume({ Name: 'after-restart' });
    await waitFor('the event after the restart', async () => rec.stats().events >= 2, 10_000);
    await rec.stop();
    recorder = undefined;

    const recs = [...queryJournal(journal(), {})].map((l) => l.rec);
    const gaps = recs.filter((r) => r.kind === 'gap');
    expect(gaps).toHaveLength(1);
    const from = Date.parse(String(gaps[0].from));
    const to = Date.parse(String(gaps[0].to));
    expect(from).toBeGreaterThanOrEqual(down - 1000);
    expect(to).toBeGreaterThan(from);
    expect(recs.some((r) => r.kind === 'engine:lost')).toBe(true);
    const volumes = recs
      .filter((r) => r.kind === 'engine:event' && r.type === 'volume' && r.action === 'create')
      .map((r) => JSON.parse(String(r.raw)) as { Actor: { ID: string } });
    expect(volumes.map((v) => v.Actor.ID)).toEqual(['before-restart', 'after-restart']);
    // The gap sits between the two events in the chain, and the whole journal verifies.
    const order = recs.map((r) =>
      r.kind === 'gap' ? 'gap' : r.kind === 'engine:event' && r.type === 'volume' ? 'vol' : '',
    );
    expect(order.filter(Boolean)).toEqual(['vol', 'gap', 'vol']);
    expect(verifyJournal(journal())).toMatchObject({ ok: true });
  }, 120_000);
});
