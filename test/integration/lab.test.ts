import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Docker from 'dockerode';
import { extract } from 'tar-stream';
import {
  cleanupPrefix,
  hostPid,
  httpStatus,
  readC2Bytes,
  stageCompromise,
  startPlainVictim,
  type Lab,
} from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';

async function fileFromArchive(docker: Docker, id: string, path: string): Promise<Buffer> {
  const tar = await docker.getContainer(id).getArchive({ path });
  const ex = extract();
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  for await (const entry of ex) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    if (entry.header.type === 'file') return Buffer.concat(chunks);
  }
  throw new Error(`no file in the archive of ${path}`);
}

/** Non-TTY logs are framed: 8-byte header {stream, 0,0,0, size BE}. */
function demux(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    (buf[i] === 2 ? err : out).push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

describe('lab fixture', () => {
  let docker: Docker;
  const prefix = uniquePrefix('lab');
  let lab: Lab | undefined;

  beforeAll(async () => {
    docker = await requireEngine();
  });

  afterAll(async () => {
    if (docker) await cleanupPrefix(docker, prefix);
  });

  test('stages a live compromise', async () => {
    lab = await stageCompromise(docker, { prefix });
    expect(lab.victim.hostPort).toBeGreaterThan(0);
    expect(await httpStatus(lab.victim.hostPort)).toBe(200);

    const before = await readC2Bytes(docker, lab.victim.id);
    await new Promise((r) => setTimeout(r, 2_500));
    const after = await readC2Bytes(docker, lab.victim.id);
    expect(after).toBeGreaterThan(before);

    const dropper = await fileFromArchive(docker, lab.victim.id, lab.dropperPath);
    expect(createHash('sha256').update(dropper).digest('hex')).toBe(lab.dropperSha256);
    expect(dropper.toString('latin1')).toContain('CIRT-LAB-DROPPER');

    const root = `/proc/${await hostPid(docker, lab.victim.id)}/root`;
    expect(await readFile(`${root}/root/.ssh/authorized_keys`, 'utf8')).toContain(lab.sshKey);
    expect(await readFile(`${root}/var/spool/cron/crontabs/root`, 'utf8')).toContain(
      lab.dropperPath,
    );

    const logs = demux(
      (await docker.getContainer(lab.victim.id).logs({ stdout: true, stderr: true })) as Buffer,
    );
    expect(logs.stdout).toMatch(/^req 3 GET \/ 200$/m);
    expect(logs.stdout).toContain('\x1b]0;pwned\x07');
    expect(logs.stdout).toContain('\x1b]8;;http://evil.example/x\x1b\\');
    expect(logs.stdout).toContain('\x1b[1;31m');
    expect(logs.stderr).toContain('warn');
  });

  test('the clean control serves the web page and has no C2 log', async () => {
    const clean = await startPlainVictim(docker, prefix);
    expect(await httpStatus(clean.hostPort)).toBe(200);
    expect(await readC2Bytes(docker, clean.id)).toBe(0);
  });

  test('cleanup removes containers and networks, and tolerates running twice', async () => {
    if (!lab) throw new Error('the staging test did not produce a lab');
    await lab.cleanup();
    await lab.cleanup();
    const left = await docker.listContainers({ all: true, filters: { name: [prefix] } });
    expect(left).toHaveLength(0);
    const nets = (await docker.listNetworks()).filter((n) => n.Name.startsWith(prefix));
    expect(nets).toHaveLength(0);
    await expect(docker.getContainer(lab.victim.id).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
  });
});
