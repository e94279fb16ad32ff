import { readJsonList } from '../artifacts.js';
import { makeEvent, type TimelineEvent } from '../event.js';
import { byTime, type Extractor } from '../extractor.js';
import { parseRfc3339 } from '../time.js';

interface Socket {
  proto?: unknown;
  localAddress?: unknown;
  localPort?: unknown;
  remoteAddress?: unknown;
  remotePort?: unknown;
  state?: unknown;
  processes?: unknown;
  pids?: unknown;
  path?: unknown;
}

const SOCKETS = /^net\/([^/]+)\/sockets(?:-\d+)?\.json$/;

/** `[v6]:port` or `v4:port`. */
export function endpoint(addr: unknown, port: unknown): string {
  const a = typeof addr === 'string' ? addr : '?';
  return `${a.includes(':') ? `[${a}]` : a}:${typeof port === 'number' ? port : '?'}`;
}

/**
 * Sockets seen by collect:network. They carry no time of their own, so each is placed at the moment
 * its snapshot was taken (the artifact's startedAt in manifest.json). Every snapshot counts: before
 * and after isolation are two observations.
 */
export const socketsExtractor: Extractor = {
  name: 'socket',
  description: 'network sockets observed at collection time (net/<phase>/sockets.json)',
  artifacts: ['net/<phase>/sockets.json'],
  async extract(x) {
    const rels = x.files.filter((f) => SOCKETS.test(f));
    if (!rels.length) {
      x.diag.note('socket: no net/<phase>/sockets.json; skipped');
      return [];
    }
    const out: TimelineEvent[] = [];
    for (const rel of rels) {
      const phase = SOCKETS.exec(rel)![1];
      const at = parseRfc3339(x.manifest.get(rel)?.startedAt ?? '');
      if (!at) {
        x.diag.warn(
          `${rel}: no collection time in manifest.json; its sockets are not placed on the timeline`,
          rel,
        );
        continue;
      }
      const doc = await readJsonList(x.src, rel, x.diag, 'sockets');
      if (!doc) continue;
      (doc as Socket[]).forEach((s, entry) => {
        if (!s || typeof s !== 'object')
          return x.diag.warn(`${rel}: entry ${entry} is not a socket; skipped`, rel);
        const proto = String(s.proto ?? '?');
        const state = String(s.state ?? '');
        const procs =
          Array.isArray(s.processes) && s.processes.length
            ? ` (${s.processes.map(String).join(', ')})`
            : '';
        const where =
          proto === 'unix'
            ? `${typeof s.path === 'string' && s.path ? s.path : '(unnamed)'}`
            : state === 'LISTEN' || s.remotePort === 0
              ? endpoint(s.localAddress, s.localPort)
              : `${endpoint(s.localAddress, s.localPort)} → ${endpoint(s.remoteAddress, s.remotePort)}`;
        const listening = state === 'LISTEN' || (proto.startsWith('udp') && !s.remotePort);
        out.push(
          makeEvent({
            at,
            desc: 'Observed at Collection',
            message: `${proto} ${where} ${state}${procs} [${phase}]`.replace(/\s+\[/, ' ['),
            source: 'socket',
            kind: listening ? 'net:listening' : 'net:socket',
            actor: 'container',
            ref: { artifact: rel, entry },
            attrs: {
              phase,
              proto,
              localAddress: s.localAddress,
              localPort: s.localPort,
              remoteAddress: s.remoteAddress,
              remotePort: s.remotePort,
              state,
              processes: s.processes,
              pids: s.pids,
            },
          }),
        );
      });
    }
    return [byTime(out)];
  },
};
