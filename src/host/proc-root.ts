import fs from 'node:fs';

/**
 * Looks at a live container's files from the engine host through `/proc/<pid>/root`, without
 * ever following a symlink: every directory on the way is opened with O_NOFOLLOW relative to
 * the one before it (through our own `/proc/self/fd/<fd>`, which acts as openat(2)), so a link
 * planted in the container (to /etc/shadow, to ../../..) can never lead us to the host's files,
 * and swapping a directory for a link mid-walk fails instead of redirecting us.
 */

const SLASH = Buffer.from('/');
const DIR_FLAGS = fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW;
const MAX_CACHED_DIRS = 256;
/** Lossy names (U+FFFD from the engine's JSON) may match several real names; bound the fan-out. */
const MAX_CANDIDATES = 16;

/** A path found in the container: the directory fd holding it and its exact name bytes. */
export interface Located {
  /** Exact bytes of the absolute path in the container. */
  bytes: Buffer;
  dirFd: number;
  name: Buffer;
}

export class ContainerRoot {
  private readonly dirs = new Map<string, number>();
  /** The directories a parent path (components joined by `/`) was found as: fds held in `dirs`. */
  private readonly parents = new Map<string, { fd: number; bytes: Buffer }[]>();
  /** `/proc/self/fd/<fd>/` per open directory fd: built once, not once per lookup. */
  private static readonly prefixes = new Map<number, Buffer>();

  private constructor(private readonly rootFd: number) {}

  /** Opens the root of process `pid`'s mount namespace (the container's filesystem). */
  static open(pid: number): ContainerRoot {
    // The root itself is a magic link we do want to follow: it is the container's root.
    return new ContainerRoot(
      fs.openSync(`/proc/${pid}/root`, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY),
    );
  }

  close(): void {
    this.closeDirs();
    fs.closeSync(this.rootFd);
  }

  private closeDirs(): void {
    for (const fd of this.dirs.values()) fs.closeSync(fd);
    this.dirs.clear();
    this.parents.clear();
  }

  /** `/proc/self/fd/<fd>/<name>`: a path that resolves `name` inside an open directory without re-walking. */
  static at(dirFd: number, name: Buffer): Buffer {
    let prefix = ContainerRoot.prefixes.get(dirFd);
    if (!prefix) {
      prefix = Buffer.from(`/proc/self/fd/${dirFd}/`);
      // fd numbers are reused after close, and the prefix depends only on the number: a small bound suffices.
      if (ContainerRoot.prefixes.size > 4 * MAX_CACHED_DIRS) ContainerRoot.prefixes.clear();
      ContainerRoot.prefixes.set(dirFd, prefix);
    }
    return Buffer.concat([prefix, name], prefix.length + name.length);
  }

  /**
   * Finds a path given as the engine printed it. Names that were not valid UTF-8 arrive with
   * U+FFFD in place of their bytes; those components are matched against the real directory
   * entries, so one lossy path may yield several candidates (or none).
   * Throws (naming the component) when a directory on the way is a symlink or not a directory.
   */
  locate(path: string): Located[] {
    // Only between lookups, so no fd in use by this walk is ever closed under it.
    if (this.dirs.size > MAX_CACHED_DIRS) this.closeDirs();
    // Siblings share their parent's walk: 10,000 files in /tmp open /tmp once, not 10,000 times.
    // Only exact (non-lossy) parents are cached, keyed by their components joined with `/`; their
    // fds live in `dirs`, closed only above. A clean absolute path (as /changes prints them) is
    // cut at its last slash without splitting it.
    const lossy = path.includes('\ufffd');
    const clean =
      !lossy &&
      path.startsWith('/') &&
      path.length > 1 &&
      !path.endsWith('/') &&
      !path.includes('//');
    const cut = path.lastIndexOf('/');
    let parts: string[] | null = null;
    let parentKey: string | null = null;
    let last: string;
    if (clean) {
      parentKey = path.slice(1, Math.max(1, cut));
      last = path.slice(cut + 1);
    } else {
      parts = path.split('/').filter((p) => p !== '');
      if (!parts.length) return [];
      if (!lossy) parentKey = parts.slice(0, -1).join('/');
      last = parts[parts.length - 1];
    }
    const cached = parentKey === null ? undefined : this.parents.get(parentKey);
    const dirs = cached ?? this.walk(parts ?? path.split('/').filter((p) => p !== ''));
    if (parentKey !== null && !cached && dirs.length) this.parents.set(parentKey, dirs);
    if (!lossy && dirs.length === 1) {
      // The common case without the fan-out machinery: one directory, one exact name.
      const name = Buffer.from(last);
      return [{ bytes: Buffer.concat([dirs[0].bytes, SLASH, name]), dirFd: dirs[0].fd, name }];
    }
    return dirs.flatMap((d) =>
      this.names(d.fd, last).map((name) => ({
        bytes: Buffer.concat([d.bytes, SLASH, name]),
        dirFd: d.fd,
        name,
      })),
    );
  }

  /** Opens every directory on the way to the last component of `parts` (each with O_NOFOLLOW). */
  private walk(parts: string[]): { fd: number; bytes: Buffer }[] {
    let dirs: { fd: number; bytes: Buffer }[] = [{ fd: this.rootFd, bytes: Buffer.alloc(0) }];
    for (let i = 0; i < parts.length - 1; i++) {
      const next: { fd: number; bytes: Buffer }[] = [];
      for (const d of dirs) {
        for (const name of this.names(d.fd, parts[i])) {
          const bytes = Buffer.concat([d.bytes, SLASH, name]);
          const fd = this.openDir(d.fd, name, bytes);
          if (fd !== null) next.push({ fd, bytes });
        }
      }
      dirs = next.slice(0, MAX_CANDIDATES);
    }
    return dirs;
  }

  /** The exact names in `dirFd` that a (possibly lossy) component stands for. */
  private names(dirFd: number, component: string): Buffer[] {
    if (!component.includes('\ufffd')) return [Buffer.from(component)];
    const matches = (
      fs.readdirSync(ContainerRoot.at(dirFd, Buffer.alloc(0)), { encoding: 'buffer' }) as Buffer[]
    ).filter((n) => n.toString('utf8') === component);
    return matches.slice(0, MAX_CANDIDATES);
  }

  private isLink(parentFd: number, name: Buffer): boolean {
    try {
      return fs.lstatSync(ContainerRoot.at(parentFd, name)).isSymbolicLink();
    } catch {
      return false;
    }
  }

  /** Opens a sub-directory without following a symlink; null when it is gone. */
  private openDir(parentFd: number, name: Buffer, bytes: Buffer): number | null {
    const key = bytes.toString('latin1');
    const cached = this.dirs.get(key);
    if (cached !== undefined) return cached;
    let fd: number;
    try {
      fd = fs.openSync(ContainerRoot.at(parentFd, name), DIR_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      // With O_DIRECTORY a symlink fails as ENOTDIR; lstat (which never follows) tells which it was.
      const link = code === 'ELOOP' || (code === 'ENOTDIR' && this.isLink(parentFd, name));
      const what = link
        ? 'is a symlink (not followed)'
        : code === 'ENOTDIR'
          ? 'is not a directory'
          : (err as Error).message;
      throw new Error(`${bytes.toString('utf8')} ${what}`);
    }
    this.dirs.set(key, fd);
    return fd;
  }
}
