import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { parseCaseInfo, parseManifest } from './case-shape.js';
import { CustodyLog, type CustodyInput, type CustodyRecord } from './custody.js';
import { HashingFileWriter, type WriteResult } from './hashing-writer.js';
import { caseFile, ensureParent, freeName } from './paths.js';
import type { CaseInfo, ManifestEntry } from './types.js';
import { toolVersion } from '../util/pkg.js';
import { describeWriteError, DiskWriteError, writeErrno } from './write-errors.js';

/**
 * Space held back in the case folder while a run writes, given up at the first disk error: then
 * the failure's custody record, case.json and manifest.json still fit on a full disk.
 */
export const RESERVE_FILE = '.cirt-reserve';
const RESERVE_BYTES = 1 << 20;

export const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface ArtifactMeta {
  mediaType: string;
  /** Where the bytes came from: an engine endpoint (`GET /containers/{id}/changes`) or a /proc path. */
  source: string;
  action: string;
  step: string;
}

export interface ArtifactHandle {
  /** The path actually used (a re-run never overwrites: `x.json` may become `x-2.json`). */
  path: string;
  stream: Writable;
  /** Closes the artifact; pass the error that cut its source short to record it incomplete (what arrived is kept). */
  done(failure?: Error): Promise<ManifestEntry>;
}

/**
 * One case folder: case.json, the custody chain, and every artifact written through a
 * hashing stream and listed in manifest.json. Nothing is ever written outside the folder.
 */
export class CaseStore {
  readonly custody: CustodyLog;
  private manifest: ManifestEntry[];
  private info: CaseInfo;
  private frozen = false;
  private saving: Promise<unknown> = Promise.resolve();
  /** Set by the seal step: the archive written beside the case folder. */
  bundle?: { path: string; sha256: string };
  /** `--sign-key`: a PEM private key to sign the seal with (otherwise one is made per case). */
  signKeyPath?: string;
  /** The signing key is the responder's kept key (`cirt keys init`), not one given for this seal. */
  signKeyKept?: boolean;
  /** `--tsa`: the RFC 3161 authority that timestamps SHA256SUMS at sealing. */
  tsaUrl?: string;
  /** `--encrypt-to`: X.509 certificate files the bundle is encrypted to after archiving. */
  encryptTo?: string[];
  /** sha256 and size of case.json / manifest.json as last written by this store (hashed while writing, for SHA256SUMS). */
  readonly written = new Map<string, { sha256: string; bytes: number }>();
  /** Every write the disk refused, in order: a step during which one happened has failed, whatever it returns. */
  readonly diskErrors: DiskWriteError[] = [];

  private constructor(
    readonly root: string,
    info: CaseInfo,
    manifest: ManifestEntry[],
  ) {
    this.info = info;
    this.manifest = manifest;
    this.frozen = info.status === 'sealed';
    this.custody = CustodyLog.open(path.join(root, 'custody.jsonl'));
  }

  get id(): string {
    return this.info.id;
  }

  get caseInfo(): CaseInfo {
    return this.info;
  }

  get artifacts(): readonly ManifestEntry[] {
    return this.manifest;
  }

  /** Opens `casesDir/id`, creating it with `init` when new. */
  static async openOrCreate(
    casesDir: string,
    id: string,
    init: () => CaseInfo,
  ): Promise<{ store: CaseStore; created: boolean }> {
    if (!CASE_ID.test(id)) {
      throw new UserError(`Case id "${id}" is not allowed`, {
        hint: 'Use letters, digits, dot, dash and underscore (up to 128), starting with a letter or digit.',
      });
    }
    const root = path.resolve(casesDir, id);
    await fs.promises.mkdir(path.resolve(casesDir), { recursive: true });
    const existing = fs.existsSync(path.join(root, 'case.json'));
    if (existing) return { store: await CaseStore.open(root), created: false };
    await fs.promises.mkdir(root, { recursive: true, mode: 0o755 });
    const store = new CaseStore(root, init(), []);
    await store.saveInfo();
    await store.saveManifest();
    return { store, created: true };
  }

  /** Opens an existing case folder. */
  static async open(root: string): Promise<CaseStore> {
    const infoFile = path.join(root, 'case.json');
    if (!fs.existsSync(infoFile)) {
      throw new UserError(`${root} is not a cirt case folder (no case.json)`, {
        hint: 'Pass the folder cirt created under cases/, or use --cases-dir.',
      });
    }
    const info = parseCaseInfo(await fs.promises.readFile(infoFile, 'utf8'), infoFile);
    const manifestFile = path.join(root, 'manifest.json');
    const manifest = fs.existsSync(manifestFile)
      ? parseManifest(await fs.promises.readFile(manifestFile, 'utf8'), manifestFile)
      : [];
    return new CaseStore(root, info, manifest);
  }

  /** Starts a new artifact; write to `stream`, then await `done()` for its manifest entry. */
  async artifact(
    rel: string,
    meta: ArtifactMeta,
    onBytes?: (n: number) => void,
  ): Promise<ArtifactHandle> {
    const { used, writer, startedAt } = await this.begin(rel, meta, onBytes);
    return {
      path: used,
      stream: writer.stream,
      done: async (failure?: Error) => {
        const r = await writer.done();
        return this.finishArtifact(
          used,
          meta,
          startedAt,
          failure && r.complete ? { ...r, complete: false, error: failure } : r,
        );
      },
    };
  }

  /** Writes a whole artifact from a stream, string or buffer. */
  async writeArtifact(
    rel: string,
    source: Readable | string | Buffer,
    meta: ArtifactMeta,
    onBytes?: (n: number) => void,
  ): Promise<ManifestEntry> {
    const { used, writer, startedAt } = await this.begin(rel, meta, onBytes);
    return this.finishArtifact(used, meta, startedAt, await writer.from(source));
  }

  /** Picks a free name inside the folder and opens the hashing writer on it. */
  private async begin(
    rel: string,
    meta: ArtifactMeta,
    onBytes?: (n: number) => void,
  ): Promise<{ used: string; writer: HashingFileWriter; startedAt: string }> {
    this.assertOpen();
    const used = freeName(this.root, rel);
    const full = caseFile(this.root, used);
    await ensureParent(this.root, full).catch((err: unknown) => {
      throw this.diskError(err, path.dirname(used));
    });
    return {
      used,
      writer: new HashingFileWriter(full, onBytes, (err) => this.diskError(err, used, meta.step)),
      startedAt: new Date().toISOString(),
    };
  }

  /** Names a disk error (file, errno, what to do) and gives up the reserve, so the failure can still be recorded. */
  private diskError(err: unknown, rel: string, step?: string): Error {
    if (writeErrno(err)) this.releaseReserve();
    const described = describeWriteError(err, { root: this.root, caseId: this.id, rel, step });
    if (described instanceof DiskWriteError && !this.diskErrors.includes(described))
      this.diskErrors.push(described);
    return described;
  }

  /**
   * Holds RESERVE_BYTES in the case folder (see RESERVE_FILE). False when even that does not fit:
   * the disk is as good as full.
   */
  async holdReserve(): Promise<boolean> {
    const file = path.join(this.root, RESERVE_FILE);
    this.releaseReserve();
    try {
      await fs.promises.writeFile(file, Buffer.alloc(RESERVE_BYTES), { flag: 'wx', mode: 0o600 });
      return true;
    } catch {
      fs.rmSync(file, { force: true });
      return false;
    }
  }

  /** Gives the reserve back to the disk (also one left by a crashed run); true if there was one. */
  releaseReserve(): boolean {
    const file = path.join(this.root, RESERVE_FILE);
    try {
      fs.unlinkSync(file);
      return true;
    } catch {
      return false;
    }
  }

  private async finishArtifact(
    rel: string,
    meta: ArtifactMeta,
    startedAt: string,
    r: WriteResult,
  ): Promise<ManifestEntry> {
    const entry: ManifestEntry = {
      path: rel,
      sha256: r.sha256,
      bytes: r.bytes,
      mediaType: meta.mediaType,
      action: meta.action,
      step: meta.step,
      source: meta.source,
      startedAt,
      finishedAt: new Date().toISOString(),
      complete: r.complete,
      ...(r.error ? { error: r.error.message } : {}),
    };
    this.manifest.push(entry);
    await this.saveManifest();
    return entry;
  }

  /**
   * After sealing, the folder must not change (its SHA256SUMS would no longer hold);
   * later custody records and case.json updates are refused.
   */
  markSealed(): void {
    this.frozen = true;
  }

  /**
   * A seal that stopped before SHA256SUMS was signed (a full disk) may have left case.json saying
   * "sealed" with nothing signed: such a case is open again, so it can be sealed. True if it was one.
   */
  async reopenUnsignedSeal(actorName: string): Promise<boolean> {
    if (!this.frozen || fs.existsSync(path.join(this.root, 'SHA256SUMS.sig'))) return false;
    for (const f of ['SHA256SUMS', 'pub.pem']) fs.rmSync(path.join(this.root, f), { force: true });
    this.frozen = false;
    const { seal: _unsigned, ...rest } = this.info;
    this.info = { ...rest, status: 'open' };
    await this.saveInfo();
    await this.record({
      actor: actorName,
      action: 'evidence:seal',
      target: { id: this.info.target.id, name: this.info.target.name },
      result: 'info',
      message:
        'an earlier seal stopped before SHA256SUMS was signed (nothing was sealed): the case is open again to be sealed',
    });
    return true;
  }

  get sealed(): boolean {
    return this.frozen;
  }

  /** Appends a custody record; on a full disk the reserve is given up and the append tried once more. */
  async record(input: CustodyInput): Promise<CustodyRecord> {
    if (this.frozen)
      throw new Error(`case ${this.id} is sealed; custody can no longer be appended`);
    try {
      return await this.custody.append(input);
    } catch (err) {
      if (!writeErrno(err)) throw err;
      if (this.releaseReserve()) {
        try {
          return await this.custody.append(input);
        } catch (again) {
          throw this.diskError(again, 'custody.jsonl', input.step);
        }
      }
      throw this.diskError(err, 'custody.jsonl', input.step);
    }
  }

  async updateInfo(patch: Partial<CaseInfo>): Promise<void> {
    if (this.frozen) return;
    this.info = { ...this.info, ...patch };
    await this.saveInfo();
  }

  /**
   * Notes something the case lacks, for the report. A `gap` (the default: content the step is
   * responsible for did not reach the case) goes to `incomplete[]` and makes a step that returned
   * ok end `partial`; a `limitation` (a fact about the evidence outside the step's control, such as
   * the engine's 256-event history) goes to `limitations[]` and leaves the step ok (docs/statuses.md).
   */
  async noteIncomplete(
    step: string,
    reason: string,
    kind: 'gap' | 'limitation' = 'gap',
  ): Promise<void> {
    // A sealed case.json is listed in SHA256SUMS: it must not change any more.
    if (this.frozen) return;
    const list = kind === 'gap' ? 'incomplete' : 'limitations';
    this.info = { ...this.info, [list]: [...(this.info[list] ?? []), { step, reason }] };
    await this.saveInfo();
  }

  /** A limitation of the evidence that is not the step's failure (listed in the report, the step stays ok). */
  noteLimitation(step: string, reason: string): Promise<void> {
    return this.noteIncomplete(step, reason, 'limitation');
  }

  private assertOpen(): void {
    if (this.frozen) throw new Error(`case ${this.id} is sealed; no more artifacts can be added`);
  }

  private async saveInfo(): Promise<void> {
    await this.serially(async () => {
      this.written.set(
        'case.json',
        await this.writeBookkeeping('case.json', `${JSON.stringify(this.info, null, 2)}\n`),
      );
    });
  }

  /** case.json / manifest.json: atomic replace; on a full disk the reserve is given up and the write tried once more. */
  private async writeBookkeeping(
    name: string,
    text: string,
  ): Promise<{ sha256: string; bytes: number }> {
    const file = path.join(this.root, name);
    try {
      return await writeFileAtomic(file, text);
    } catch (err) {
      if (writeErrno(err) && this.releaseReserve()) {
        try {
          return await writeFileAtomic(file, text);
        } catch (again) {
          throw this.diskError(again, name);
        }
      }
      throw this.diskError(err, name);
    }
  }

  /** Bookkeeping writes run one at a time, so concurrent steps never interleave a rename. */
  private serially(job: () => Promise<void>): Promise<void> {
    const run = this.saving.then(job);
    this.saving = run.catch(() => undefined);
    return run;
  }

  async saveManifest(extra: Record<string, unknown> = {}): Promise<void> {
    await this.serially(async () => {
      // Serialised at write time, so the file always holds every artifact finished so far.
      const doc = {
        schema: 'cirt.manifest/1',
        caseId: this.info.id,
        ...extra,
        artifacts: this.manifest,
      };
      this.written.set(
        'manifest.json',
        await this.writeBookkeeping('manifest.json', `${JSON.stringify(doc, null, 2)}\n`),
      );
    });
  }
}

async function writeFileAtomic(
  file: string,
  text: string,
): Promise<{ sha256: string; bytes: number }> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const data = Buffer.from(text);
  try {
    await fs.promises.writeFile(tmp, data, { mode: 0o644, flag: 'wx' });
    await fs.promises.rename(tmp, file);
  } catch (err) {
    // A half-written temp file must not stay behind in the case folder (it would be sealed as found there).
    await fs.promises.rm(tmp, { force: true });
    throw err;
  }
  return { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
}

/** The custody actor: who ran which cirt, e.g. `root@host (cirt 0.1.0)`. */
export function actor(): string {
  return `${responder()} (cirt ${toolVersion()})`;
}

/** user@host of whoever runs cirt (the user behind sudo when there is one). */
export function responder(): string {
  let user = process.env.SUDO_USER || 'unknown';
  if (!process.env.SUDO_USER) {
    try {
      user = os.userInfo().username;
    } catch {
      user = process.env.USER ?? 'unknown';
    }
  }
  return `${user}@${os.hostname()}`;
}
