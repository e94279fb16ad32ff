import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import { casesDirOf as appCasesDir, type AppEnv } from '../app/env.js';
import { terminalSafe } from '../util/sanitize.js';

/** Where a command writes; tests pass buffers, the binary passes process streams. */
export interface CommandIO {
  out: Writable;
  err: Writable;
  /** True when a human can answer prompts. */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIO(): CommandIO {
  // `cirt run … --json | head -1`: the reader left, so the rest of the output has nowhere to go. The
  // command still finishes (a run its custody, case.json and seal; exiting here would stop it
  // mid-run, with exit 0): later writes are dropped, the exit code stays the command's own.
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
  return {
    out: process.stdout,
    err: process.stderr,
    interactive: Boolean(process.stdin.isTTY && process.stderr.isTTY),
    env: process.env,
    cwd: process.cwd(),
  };
}

/**
 * What every command writes to a terminal goes through this: control characters are neutralised
 * (see terminalSafe), so a command that forgets safeText, a stack trace quoting an attacker's bytes
 * or a CSV with an escape in it cannot drive the terminal. It does not claim to be a TTY, so nothing
 * mistakes it for one; the TUI and readline, which write their own escape codes, take `rawTerminal()`.
 */
export class TerminalWriter extends Writable {
  /** Characters neutralised so far (the exact bytes differ from what was shown). */
  replaced = 0;
  private readonly decoder = new StringDecoder('utf8');
  /** A CR at the end of a chunk, held until we know whether an LF follows (CRLF passes). */
  private heldCR = false;

  constructor(readonly raw: Writable) {
    super({ decodeStrings: false });
  }

  /** The terminal's width, for tables. */
  get columns(): number | undefined {
    return (this.raw as { columns?: number }).columns;
  }

  get rows(): number | undefined {
    return (this.raw as { rows?: number }).rows;
  }

  override _write(
    chunk: Buffer | string,
    _enc: BufferEncoding,
    cb: (err?: Error | null) => void,
  ): void {
    let text =
      (this.heldCR ? '\r' : '') +
      (typeof chunk === 'string' ? this.decoder.end() + chunk : this.decoder.write(chunk));
    this.heldCR = text.endsWith('\r');
    if (this.heldCR) text = text.slice(0, -1);
    this.forward(text, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    // The underlying stream is not ended: process.stdout outlives any one writer.
    const text = (this.heldCR ? '\r' : '') + this.decoder.end();
    this.heldCR = false;
    this.forward(text, cb);
  }

  /** Writes out a CR held at the end of the last chunk (neutralised: no LF came after it). */
  flushHeld(): void {
    if (!this.heldCR) return;
    this.heldCR = false;
    this.forward('\r', () => undefined);
  }

  private forward(text: string, cb: (err?: Error | null) => void): void {
    if (!text) return cb();
    const safe = terminalSafe(text);
    this.replaced += safe.replaced;
    if (this.raw.write(safe.text)) cb();
    else this.raw.once('drain', () => cb());
  }
}

/** The stream under a TerminalWriter (for the TUI and prompts, which draw with escape codes), else `w`. */
export function rawTerminal<T extends Writable>(w: T | TerminalWriter): T {
  return (w instanceof TerminalWriter ? w.raw : w) as T;
}

/**
 * The one path to a terminal: stderr always goes through a TerminalWriter (messages, errors, stack
 * traces), stdout when it is a terminal (any format: table, csv, jsonl, bodyfile, json). stdout to a
 * file or pipe is left byte-exact.
 */
export function terminalIO(io: CommandIO): CommandIO {
  const wrap = (w: Writable): Writable => (w instanceof TerminalWriter ? w : new TerminalWriter(w));
  const isTTY = (w: Writable): boolean => Boolean((w as { isTTY?: boolean }).isTTY);
  return { ...io, out: isTTY(io.out) ? wrap(io.out) : io.out, err: wrap(io.err) };
}

export function println(w: Writable, line = ''): void {
  w.write(`${line}\n`);
}

/** Global options every engine-facing command accepts. */
export interface GlobalOptions {
  host?: string;
  /** `--context`: a docker context or an engine of cirt's config. */
  context?: string;
  /** `--config`: cirt's config file. */
  config?: string;
  casesDir?: string;
}

/** What the app layer needs of a command's options and IO. */
export function appEnv(g: GlobalOptions, io: CommandIO): AppEnv {
  return {
    cwd: io.cwd,
    env: io.env,
    host: g.host,
    context: g.context,
    config: g.config,
    casesDir: g.casesDir,
  };
}

/** The cases folder, absolute: a relative --cases-dir or CIRT_CASES_DIR is taken from the command's cwd. */
export function casesDirOf(g: GlobalOptions, io: CommandIO): string {
  return appCasesDir(appEnv(g, io));
}
