/**
 * Act 2 of `npm run demo`: `cirt serve` is already running (with its flight recorder) when a second
 * victim is compromised; a Falco-shaped alert is posted to it over HTTP, and the service contains the
 * container by itself. Its case shows what the recorder saw before the alert.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Docker from 'dockerode';
import { main } from '../src/cli/main.js';
import type { CommandIO } from '../src/cli/io.js';
import type { RunEvent } from '../src/runner/events.js';
import type { ServeEvent } from '../src/serve/dispatch.js';
import { startService } from '../src/serve/service.js';
import { httpStatus, readC2Bytes, stageCompromise } from '../test/fixtures/lab.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function post(url: string, token: string, body: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}/`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.trim() }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Returns whether the service contained the second victim by itself and the bundle verifies. */
export async function serveAct(o: {
  docker: Docker;
  prefix: string;
  io: CommandIO;
  say: (line?: string) => void;
  section: (title: string) => void;
}): Promise<boolean> {
  const { docker, io, say, section } = o;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-demo-serve-'));
  const token = randomBytes(24).toString('base64url');
  fs.writeFileSync(path.join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const config = [
    'listen: 127.0.0.1:0',
    'token_file: token',
    `cases_dir: ${path.join(io.cwd, 'cases')}`,
    'journal:',
    '  dir: journal',
    'snapshots:',
    '  interval: 1s',
    'rules:',
    '  - name: contain-shells',
    '    match:',
    '      rule: [Terminal shell in container]',
    '      priority: ">=Warning"',
    '    playbook: contain-and-collect',
    '    auto_approve: true',
    '',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'serve.yaml'), config);

  section('6. Act 2: cirt serve is running, with its flight recorder');
  say('$ cat serve.yaml');
  for (const l of config.trim().split('\n')) say(`  ${l}`);
  let ended: ((e: Extract<RunEvent, { type: 'run:end' }>) => void) | undefined;
  let cutAt = 0;
  const service = await startService({
    configFile: path.join(dir, 'serve.yaml'),
    env: { cwd: io.cwd, env: io.env },
    log: (l) => say(`  serve │ ${l}`),
    onEvent: (e: ServeEvent) => {
      if (e.type !== 'run') return;
      if (e.event.type === 'step:end' && e.event.uses === 'contain:network-isolate')
        cutAt = performance.now();
      if (e.event.type === 'run:end') ended?.(e.event);
    },
  });
  try {
    section('7. A second victim is compromised while the service records');
    const lab = await stageCompromise(docker, { prefix: `${o.prefix}-2` });
    say(
      `victim    ${lab.victim.name} (${lab.victim.id.slice(0, 12)}), web on 127.0.0.1:${lab.victim.hostPort}`,
    );
    say(
      `attacker  ${lab.attacker.name}; dropper ${lab.dropperPath}, SSH key, crontab, C2 connection`,
    );
    // A process that starts and ends before anyone is alerted: only the recorder's snapshots keep it.
    await docker
      .getContainer(lab.victim.id)
      .exec({ Cmd: ['sh', '-c', 'sleep 2.5; true stage2'], AttachStdout: false })
      .then((x) => x.start({ Detach: true }));
    await sleep(3_500);
    const alertTime = new Date().toISOString();

    section('8. Falco fires; the alert is posted to the service');
    const alert = JSON.stringify({
      uuid: 'demo-0001',
      rule: 'Terminal shell in container',
      priority: 'Critical',
      time: alertTime,
      source: 'syscall',
      tags: ['container', 'shell', 'mitre_execution'],
      hostname: os.hostname(),
      output: `A shell was spawned in a container (container=${lab.victim.name})`,
      output_fields: {
        'container.id': lab.victim.id.slice(0, 12),
        'container.name': lab.victim.name,
        'proc.cmdline': 'sh -c mkdir -p /tmp/.cache',
      },
    });
    say(`$ curl -H 'Authorization: Bearer …' --data @alert.json ${service.url}/`);
    const done = new Promise<Extract<RunEvent, { type: 'run:end' }>>((r) => (ended = r));
    const t0 = performance.now();
    const reply = await post(service.url, token, alert);
    say(`  → ${reply.status} ${reply.body}  (${(performance.now() - t0).toFixed(1)} ms)`);
    const end = await done;
    await service.idle();
    say(
      `network cut ${((cutAt || performance.now()) - t0).toFixed(0)} ms after the alert was posted; run ${end.status.toUpperCase()}`,
    );

    section('9. Result: contained without anyone typing a command');
    const web = await httpStatus(lab.victim.hostPort);
    const c0 = await readC2Bytes(docker, lab.victim.id);
    await sleep(2_000);
    const c1 = await readC2Bytes(docker, lab.victim.id);
    say(`web       GET http://127.0.0.1:${lab.victim.hostPort}/ → ${web}`);
    say(
      `C2        ${c0} → ${c1} bytes in 2 s (${c1 > c0 ? 'STILL GROWING' : 'no longer growing'})`,
    );
    const bundle = end.bundle ?? `${end.caseDir}.tar.gz`;
    say(
      `\n$ cirt timeline <bundle> --source journal,exec --to ${alertTime}   (what happened BEFORE the alert)`,
    );
    await main(
      ['timeline', bundle, '--source', 'journal,exec', '--to', alertTime, '--limit', '20'],
      io,
    );
    say(
      `\n$ cirt timeline <bundle> --source journal --grep stage2   (a short-lived process, started before the alert; only the snapshots saw it)`,
    );
    await main(['timeline', bundle, '--source', 'journal', '--grep', 'stage2'], io);
    say('\n$ cirt verify <bundle>');
    const verified = await main(['verify', bundle], io);
    say(`\ncase      ${end.caseDir}`);
    say(
      `journal   ${path.join(dir, 'journal')}  (cirt journal verify ${path.join(dir, 'journal')})`,
    );
    return web !== 200 && c1 === c0 && end.exitCode === 0 && verified === 0;
  } finally {
    await service.stop();
  }
}
