import fs from 'node:fs';
import path from 'node:path';

const SOURCES = ['logs', 'engine', 'fs', 'proc', 'net'] as const;
const KINDS: Record<(typeof SOURCES)[number], [string, string, string]> = {
  logs: ['log:stdout', 'Log Written', 'logs/stdout.log'],
  engine: ['container:exec_start', 'Engine Event', 'container/events.jsonl'],
  fs: ['fs:modified', 'Content Modification Time', 'fs/diff-index.jsonl'],
  proc: ['proc:start', 'Process Start Time', 'proc/processes.json'],
  net: ['net:socket', 'Socket Seen', 'net/before-isolation/sockets.json'],
};

/**
 * Writes a case folder whose timeline/timeline.jsonl holds `n` events in the format evidence:timeline
 * writes (one JSON object per line, sorted by time), with the dropper in the middle and a findings.json
 * pointing at it. Lines are ~280 bytes like real ones, so a million events is ~280 MB.
 */
export async function synthesizeCase(
  dir: string,
  n: number,
): Promise<{ dropperLine: number; bytes: number }> {
  fs.mkdirSync(path.join(dir, 'timeline'), { recursive: true });
  const base = Date.parse('2024-05-01T00:00:00Z') * 1000;
  const dropperLine = Math.floor(n / 2) + 7;
  const out = fs.createWriteStream(path.join(dir, 'timeline', 'timeline.jsonl'));
  let bytes = 0;
  let batch: string[] = [];
  for (let i = 0; i < n; i++) {
    const us = base + i * 37_000 + (i % 1000);
    const src = SOURCES[i % SOURCES.length];
    const [kind, desc, artifact] = KINDS[src];
    const dropper = i === dropperLine;
    const e = {
      id: dropper ? 'fs:fs/diff-index.jsonl#L7' : `${src}:${artifact}#L${i + 1}`,
      datetime: `${new Date(Math.floor(us / 1000)).toISOString().slice(0, 19)}.${String(us % 1_000_000).padStart(6, '0')}+00:00`,
      timestamp: us,
      timestamp_desc: dropper ? 'Content Modification Time' : desc,
      message: dropper
        ? 'A /tmp/.cache/kworkerd (755, 312 bytes) sha256 3f1c…'
        : `req ${i} GET /index.html 200 upstream=${(i * 7919) % 10007} bytes=${(i * 31) % 65536}`,
      source: dropper ? 'fs' : src,
      kind: dropper ? 'fs:added' : kind,
      actor: 'container',
      ref: { artifact: dropper ? 'fs/diff-index.jsonl' : artifact, line: dropper ? 7 : i + 1 },
      attrs: { container: 'victim', seq: i },
    };
    batch.push(JSON.stringify(e));
    if (batch.length === 10_000 || i === n - 1) {
      const chunk = `${batch.join('\n')}\n`;
      bytes += Buffer.byteLength(chunk);
      batch = [];
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
  }
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
  fs.writeFileSync(
    path.join(dir, 'case.json'),
    JSON.stringify({
      id: path.basename(dir),
      status: 'sealed',
      target: { id: 'f'.repeat(64), name: 'victim' },
    }),
  );
  fs.writeFileSync(
    path.join(dir, 'findings.json'),
    JSON.stringify({
      findings: [
        {
          id: 'F1',
          rule: 'dropper-in-tmp',
          title: 'Executable dropped in /tmp/.cache',
          severity: 'high',
          events: ['fs:fs/diff-index.jsonl#L7'],
        },
      ],
    }),
  );
  return { dropperLine, bytes };
}
