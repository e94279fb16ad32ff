import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { runCommand } from '../../src/cli/commands/run.js';
import type { CaseInfo, ManifestEntry } from '../../src/evidence/types.js';

export interface PlaybookRun {
  exitCode: number;
  caseDir: string;
  /** NDJSON events the run printed. */
  events: Array<Record<string, unknown>>;
}

/** Writes `steps` (YAML) as a playbook and runs it through the real `cirt run` command function, with --yes --json. */
export async function runSteps(
  dir: string,
  name: string,
  steps: string,
  target: string,
  caseId: string,
): Promise<PlaybookRun> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `name: ${name}\nsteps:\n${steps}`);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const err = new PassThrough().resume();
  const r = await runCommand(
    { playbook: file, target, caseId, yes: true, json: true, casesDir: join(dir, 'cases') },
    { out, err, interactive: false, env: process.env, cwd: dir },
  );
  const events = Buffer.concat(chunks)
    .toString()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { exitCode: r.exitCode, caseDir: join(dir, 'cases', caseId), events };
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/** Reads manifest.json and checks every listed file's sha256 and size against the file on disk (tests may re-read; cirt must not). */
export async function checkManifest(
  caseDir: string,
): Promise<{ entries: ManifestEntry[]; mismatches: string[] }> {
  const { artifacts } = JSON.parse(await readFile(join(caseDir, 'manifest.json'), 'utf8')) as {
    artifacts: ManifestEntry[];
  };
  const mismatches: string[] = [];
  for (const a of artifacts) {
    const file = join(caseDir, a.path);
    const [sum, buf] = await Promise.all([sha256File(file), readFile(file)]);
    if (sum !== a.sha256) mismatches.push(`${a.path}: sha256 ${sum} != manifest ${a.sha256}`);
    if (buf.length !== a.bytes)
      mismatches.push(`${a.path}: ${buf.length} bytes != manifest ${a.bytes}`);
    if (!a.complete) mismatches.push(`${a.path}: marked incomplete`);
  }
  return { entries: artifacts, mismatches };
}

export async function readJson<T>(caseDir: string, rel: string): Promise<T> {
  return JSON.parse(await readFile(join(caseDir, rel), 'utf8')) as T;
}

export async function readCase(caseDir: string): Promise<CaseInfo> {
  return readJson<CaseInfo>(caseDir, 'case.json');
}
