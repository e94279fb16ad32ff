/**
 * `npm run demo`: stages a compromised container on the local engine, contains it with the
 * contain-and-collect playbook through the real CLI, and shows that the containment holds.
 * Act 2 (scripts/demo-serve.ts): `cirt serve` contains a second victim by itself from a Falco alert.
 * The containers stay for a responder to look at; `npm run demo -- --cleanup` removes them.
 */
import { connectEngine } from '../src/docker/connection.js';
import { DEFAULT_QUARANTINE, QUARANTINE_LABEL } from '../src/runtime/quarantine.js';
import { main } from '../src/cli/main.js';
import { processIO } from '../src/cli/io.js';
import { ensureImage } from '../test/fixtures/images.js';
import { cleanupPrefix, httpStatus, readC2Bytes, stageCompromise } from '../test/fixtures/lab.js';
import { serveAct } from './demo-serve.js';

const PREFIX = 'cirt-demo';
const WATCH_MS = 3_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};
const section = (title: string): void =>
  say(`\n── ${title} ${'─'.repeat(Math.max(3, 66 - title.length))}`);

async function c2Growth(
  docker: Parameters<typeof readC2Bytes>[0],
  id: string,
): Promise<[number, number]> {
  const before = await readC2Bytes(docker, id);
  await sleep(WATCH_MS);
  return [before, await readC2Bytes(docker, id)];
}

async function cleanupOnly(): Promise<number> {
  const { docker } = await connectEngine(undefined, process.env);
  await cleanupPrefix(docker, PREFIX);
  // The quarantine network is shared by every case: remove it only when cirt made it and nobody is on it.
  const q = await docker
    .getNetwork(DEFAULT_QUARANTINE)
    .inspect()
    .catch(() => undefined);
  const unused =
    q && q.Labels?.[QUARANTINE_LABEL] === '1' && Object.keys(q.Containers ?? {}).length === 0;
  if (unused) await docker.getNetwork(q.Id).remove();
  say(
    `Removed the ${PREFIX}-* containers and networks${unused ? ` and the unused ${DEFAULT_QUARANTINE} network` : ''}.`,
  );
  return 0;
}

async function demo(): Promise<number> {
  const { docker } = await connectEngine(undefined, process.env);
  section('1. Staging a compromise');
  await cleanupPrefix(docker, PREFIX);
  await ensureImage(docker);
  const lab = await stageCompromise(docker, { prefix: PREFIX });
  say(
    `victim    ${lab.victim.name} (${lab.victim.id.slice(0, 12)}), web server published on 127.0.0.1:${lab.victim.hostPort}`,
  );
  say(`attacker  ${lab.attacker.name} at ${lab.attacker.ip}, C2 listener on :${lab.c2Port}`);
  say(
    `planted   dropper ${lab.dropperPath} (sha256 ${lab.dropperSha256.slice(0, 16)}…), an SSH key in /root/.ssh/authorized_keys,`,
  );
  say(`          crontab "${lab.crontabLine}", log lines with ANSI escapes`);
  say(
    `web       GET http://127.0.0.1:${lab.victim.hostPort}/ → ${await httpStatus(lab.victim.hostPort)}`,
  );
  const [c0, c1] = await c2Growth(docker, lab.victim.id);
  say(
    `C2        ${c0} → ${c1} bytes received from the attacker in ${WATCH_MS / 1000} s (the connection is live)`,
  );

  section('2. cirt run contain-and-collect --yes');
  const caseId = `${PREFIX}-${new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
  const io = processIO();
  const code = await main(
    ['run', 'contain-and-collect', '--target', lab.victim.name, '--case', caseId, '--yes'],
    { ...io, interactive: false },
  );
  // A failed collection step does not undo the containment: show the result either way.
  if (code !== 0)
    say(`\ncirt run exited ${code} (see the failed step above); the containment result follows.`);

  section('3. Result');
  const web = await httpStatus(lab.victim.hostPort);
  say(`web       GET http://127.0.0.1:${lab.victim.hostPort}/ → ${web}`);
  const [d0, d1] = await c2Growth(docker, lab.victim.id);
  say(
    `C2        ${d0} → ${d1} bytes in ${WATCH_MS / 1000} s (${d1 > d0 ? 'STILL GROWING' : 'no longer growing: its processes are frozen and the connection is cut'})`,
  );
  say('\n$ cirt ps');
  await main(['ps'], io);
  const held = web !== 200 && d1 === d0;

  const bundle = `${io.cwd}/cases/${caseId}.tar.gz`;
  section('4. What happened: findings and the timeline');
  say('$ cirt findings <bundle>');
  await main(['findings', bundle], io);
  say('\n$ cirt timeline <bundle> --grep kworkerd');
  await main(['timeline', bundle, '--grep', 'kworkerd', '--limit', '15'], io);

  section('5. The bundle verifies (as an auditor would check it)');
  say('$ cirt verify <bundle>');
  const verified = await main(['verify', bundle], io);

  section('Where things are');
  say(`case      ${io.cwd}/cases/${caseId}  (case.json, custody.jsonl, report.html, timeline/, …)`);
  say(`bundle    ${bundle}  (+ .sha256; auditors: see docs/auditing.md)`);
  say(
    `release   npx cirt release --case ${caseId}   (reconnects its networks, restores the restart policy, unpauses)`,
  );
  say(
    `clean up  npm run demo -- --cleanup            (removes the ${PREFIX}-* containers and networks)`,
  );
  say(held ? '\nThe containment holds.' : '\nTHE CONTAINMENT DID NOT HOLD: see the lines above.');
  if (code !== 0)
    say(`The run itself ended with exit code ${code}: the case folder holds what was collected.`);
  if (verified !== 0) say('THE BUNDLE DID NOT VERIFY: see above.');

  const served = await serveAct({ docker, prefix: PREFIX, io, say, section });
  say(
    served
      ? '\nAct 2: the service contained the second victim by itself; its bundle verifies.'
      : '\nACT 2 DID NOT HOLD: see the lines above.',
  );
  return held && code === 0 && verified === 0 && served ? 0 : 1;
}

const run = process.argv.includes('--cleanup') ? cleanupOnly : demo;
// Exit explicitly: act 2's service leaves engine connections (keep-alive sockets of the engine
// client) open after it stops, and the story is over once the last line is printed.
run().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`demo failed: ${err.message}\n`);
    process.exit(1);
  },
);
