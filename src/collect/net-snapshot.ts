import { Writable, type Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { ActionContext } from '../runner/action.js';
import {
  buildInterfaces,
  parseArp,
  parseDev,
  parseFibTrieLocal,
  parseIfInet6,
  parseRoutes,
} from '../host/procnet-links.js';
import {
  parseSocketLine,
  withOwners,
  type SocketEntry,
  type SocketProto,
} from '../host/procnet.js';
import type { SocketOwnerMap } from '../host/proc.js';
import { BoundedBuffer, LineSplitter, tee } from '../util/streams.js';
import { JsonArrayArtifact } from './json-array.js';

/** The /proc/<pid>/net files one snapshot reads, in the order they are read. */
export const NET_FILES = [
  'tcp',
  'tcp6',
  'udp',
  'udp6',
  'unix',
  'dev',
  'route',
  'arp',
  'fib_trie',
  'if_inet6',
] as const;
export type NetFile = (typeof NET_FILES)[number];

const SOCKET_FILES = new Set<string>(['tcp', 'tcp6', 'udp', 'udp6', 'unix']);
/** Link-level tables are small; beyond this they are kept raw but not decoded. */
const MAX_DECODE_BYTES = 16 * 1024 * 1024;

/**
 * One network snapshot (net/<phase>/…): every /proc net file is streamed raw into
 * net/<phase>/raw/<file> while it is decoded on the fly; sockets are written to sockets.json as
 * they are decoded, the small link-level tables are decoded at the end.
 */
export class NetSnapshot {
  private sockets?: JsonArrayArtifact;
  private owners: SocketOwnerMap = new Map();
  private readonly texts = new Map<NetFile, string>();
  readonly states: Record<string, number> = {};
  readonly unread: string[] = [];

  constructor(
    private readonly ctx: ActionContext,
    private readonly phase: string,
  ) {}

  async begin(source: string): Promise<void> {
    this.sockets = await JsonArrayArtifact.open(this.ctx, `net/${this.phase}/sockets.json`, source);
  }

  /** inode → owning processes; must be set before the socket tables are read. */
  setOwners(owners: SocketOwnerMap): void {
    this.owners = owners;
  }

  /** Records that a file could not be read (absent when, e.g., IPv6 is off in the namespace). */
  skip(file: NetFile, why: string): void {
    this.unread.push(file);
    this.ctx.warn(`${file}: not collected (${why})`);
  }

  /** Streams one file's bytes into its raw artifact and decodes them. */
  async file(file: NetFile, src: Readable, source: string): Promise<void> {
    const raw = await this.ctx.artifact(`net/${this.phase}/raw/${file}`, {
      mediaType: 'text/plain',
      source,
    });
    // Socket tables are decoded line by line as they stream; the small link tables are kept whole.
    const decoder = SOCKET_FILES.has(file) ? new LineSplitter(64 * 1024) : this.textConsumer(file);
    const decoded =
      decoder instanceof LineSplitter
        ? pipeline(decoder, this.socketConsumer(file as SocketProto))
        : finished(decoder);
    // Awaited below, after the copy: until then its failure must not count as unhandled.
    decoded.catch(() => undefined);
    let readError: Error | undefined;
    await tee(src, [raw.stream, decoder]).catch((err: Error) => {
      readError = err;
    });
    const entry = await raw.done(readError);
    await decoded;
    if (readError)
      throw new Error(
        `reading ${source} failed after ${entry.bytes} bytes (kept in ${entry.path}): ${readError.message}`,
      );
  }

  private socketConsumer(proto: SocketProto): Writable {
    let unparsed = 0;
    let lineNo = 0;
    return new Writable({
      objectMode: true,
      write: (line: Buffer, _enc, cb) => {
        lineNo++;
        const text = line.toString('utf8');
        let s: SocketEntry | null = null;
        try {
          s = parseSocketLine(proto, text);
        } catch {
          s = null;
        }
        if (!s) {
          // The first line is the column header; a unix path holding a newline also lands here.
          if (lineNo > 1 && text.trim()) unparsed++;
          return cb();
        }
        this.states[s.state] = (this.states[s.state] ?? 0) + 1;
        this.sockets!.push(withOwners(s, this.owners)).then(() => cb(), cb);
      },
      final: (cb) => {
        if (unparsed)
          this.ctx.warn(`${proto}: ${unparsed} line(s) not decoded (kept in the raw file)`);
        cb();
      },
    });
  }

  private textConsumer(file: NetFile): Writable {
    const kept = new BoundedBuffer(MAX_DECODE_BYTES);
    return kept.sink(() => {
      if (kept.cut)
        this.ctx.warn(`${file}: larger than ${MAX_DECODE_BYTES} bytes, kept raw but not decoded`);
      else this.texts.set(file, kept.text());
    });
  }

  /** Writes sockets.json's end, interfaces.json, routes.json and arp.json. */
  async finish(
    source: string,
  ): Promise<{ sockets: number; interfaces: number; routes: number; arp: number }> {
    await this.sockets!.close();
    const routes = parseRoutes(this.texts.get('route') ?? '');
    const interfaces = buildInterfaces(
      parseDev(this.texts.get('dev') ?? ''),
      parseFibTrieLocal(this.texts.get('fib_trie') ?? ''),
      routes,
      parseIfInet6(this.texts.get('if_inet6') ?? ''),
    );
    const arp = parseArp(this.texts.get('arp') ?? '');
    await this.ctx.writeJson(`net/${this.phase}/interfaces.json`, interfaces, source);
    await this.ctx.writeJson(`net/${this.phase}/routes.json`, routes, source);
    await this.ctx.writeJson(`net/${this.phase}/arp.json`, arp, source);
    return {
      sockets: this.sockets!.length,
      interfaces: interfaces.length,
      routes: routes.length,
      arp: arp.length,
    };
  }
}
