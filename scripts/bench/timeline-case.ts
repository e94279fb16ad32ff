import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes a synthetic case folder for the timeline benchmark: `lines` log lines (80 % stdout, 20 %
 * stderr, each `<RFC3339Nano> <text>` with the odd hostile character), `files` changed paths with
 * diff-index and full stat times, and the small artifacts. Streamed out in large chunks.
 */
export async function writeBenchCase(root: string, lines: number, files: number): Promise<void> {
  fs.mkdirSync(root, { recursive: true });
  for (const d of ['container', 'logs', 'fs', 'proc'])
    fs.mkdirSync(path.join(root, d), { recursive: true });
  const base = Date.UTC(2026, 10, 28, 12, 0, 0);
  const t0 = 0; // times below are ns after `base` (small enough to stay exact as numbers)
  // RFC3339Nano as the engine writes it: nanoseconds, trailing zeros trimmed.
  const stamp = (ns: number): string => {
    const sec = Math.floor(ns / 1e9);
    const frac = String(ns - sec * 1e9)
      .padStart(9, '0')
      .replace(/0+$/, '');
    return `${new Date(base + sec * 1000).toISOString().slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
  };
  const json = (rel: string, v: unknown): void =>
    fs.writeFileSync(path.join(root, rel), JSON.stringify(v));
  json('case.json', {
    schema: 'cirt.case/1',
    id: path.basename(root),
    responder: 'bench@host',
    host: 'host',
    engine: {
      address: 'unix:///var/run/docker.sock',
      local: true,
      version: '20.10',
      apiVersion: '1.41',
    },
    tool: { name: 'cirt', version: '0' },
    target: { id: 'b'.repeat(64), name: 'bench', image: 'bench', imageId: 'sha256:bench' },
    startedAt: new Date().toISOString(),
    status: 'open',
    runs: [],
  });
  json('container/inspect.json', {
    Id: 'b'.repeat(64),
    Name: '/bench',
    Created: stamp(t0 - 1e9),
    Path: 'sh',
    State: { StartedAt: stamp(t0 - 5e8), FinishedAt: '0001-01-01T00:00:00Z' },
    RestartCount: 0,
    Config: { Env: ['PATH=/bin'] },
  });
  json('proc/processes.json', [
    {
      pid: 10,
      nspid: 1,
      ppid: 1,
      comm: 'sh',
      cmdline: ['sh'],
      exe: '/bin/sh',
      startTime: stamp(t0 - 5e8),
    },
  ]);

  const stepNs = Math.floor((3600 * 1e9) / Math.max(1, lines)) + 137; // an hour of logs, odd nanoseconds
  const writeLog = async (
    rel: string,
    count: number,
    offset: number,
    text: (i: number) => string,
  ): Promise<void> => {
    const out = fs.createWriteStream(path.join(root, rel));
    let buf: string[] = [];
    for (let i = 0; i < count; i++) {
      buf.push(`${stamp(t0 + (i * 5 + offset) * stepNs)} ${text(i)}\n`);
      if (buf.length === 10_000) {
        if (!out.write(buf.join(''))) await new Promise<void>((r) => out.once('drain', () => r()));
        buf = [];
      }
    }
    out.end(buf.join(''));
    await new Promise<void>((r) => out.on('finish', () => r()));
  };
  const stdoutCount = Math.round(lines * 0.8);
  await writeLog('logs/stdout.log', stdoutCount, 0, (i) =>
    i % 1000 === 7
      ? `req ${i} GET /a|b,c "q" \u001b[31mERR\u001b[0m`
      : `req ${i} GET /index.html 200 0.0${i % 10}s`,
  );
  await writeLog(
    'logs/stderr.log',
    lines - stdoutCount,
    2,
    (i) => `warn ${i}: upstream cache miss, retrying`,
  );

  const changes: { Path: string; Kind: number }[] = [];
  const index: string[] = [];
  const stat: string[] = [];
  for (let i = 0; i < files; i++) {
    const p = `/var/lib/app/d${i % 100}/f${i}${i % 500 === 3 ? '|x\n"y"' : ''}`;
    changes.push({ Path: p, Kind: i % 3 === 0 ? 0 : 1 });
    const m = stamp(t0 + i * 3e8);
    index.push(
      JSON.stringify({
        path: p,
        type: 'file',
        size: i,
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: `${m.slice(0, 19)}Z`,
        linkname: null,
        sha256: null,
      }),
    );
    stat.push(
      JSON.stringify({
        path: p,
        kind: 'A',
        type: 'file',
        mode: 0o100644,
        uid: 0,
        gid: 0,
        size: i,
        inode: 1000 + i,
        atime: m,
        mtime: m,
        ctime: stamp(t0 + i * 3e8 + 1000),
        birthtime: m,
      }),
    );
  }
  json('fs/changes.json', changes);
  fs.writeFileSync(path.join(root, 'fs/diff-index.jsonl'), `${index.join('\n')}\n`);
  fs.writeFileSync(path.join(root, 'fs/stat.jsonl'), `${stat.join('\n')}\n`);
  fs.writeFileSync(
    path.join(root, 'manifest.json'),
    JSON.stringify({ schema: 'cirt.manifest/1', caseId: path.basename(root), artifacts: [] }),
  );
}
