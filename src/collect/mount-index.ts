/** The records collect:mounts writes for the files it walks (evidence-formats.md, fs/mounts-index.jsonl). */

/** Budgets shared by every mount of one step. */
export interface ContentLimits {
  maxFileBytes: number;
  maxTotalBytes: number;
  maxFiles: number;
  maxDepth: number;
}

/** One line of fs/mounts-index.jsonl (evidence-formats.md). */
export interface MountIndexLine {
  mount: number;
  path: string;
  pathB64?: string;
  type: string;
  /** The file's real size (lstat). */
  size: number;
  /** Content bytes in the tar (a prefix when `truncated`). */
  taken: number;
  truncated?: boolean;
  mode: number;
  uid: number;
  gid: number;
  inode: number;
  nlink: number;
  rdev?: number;
  atime: string;
  mtime: string;
  ctime: string;
  birthtime: string | null;
  linkname?: string;
  linknameB64?: string;
  /** Of the `taken` bytes; null for what has no content in the tar. */
  sha256: string | null;
  /** Offset of the entry's first header in fs/mounts/<mount>.tar; null when not in the tar (sockets, cut entries). */
  offset: number | null;
  /**
   * `added` for everything in a tmpfs (it starts empty with the container) and, elsewhere, for what
   * was born (statx birth time) after the container was created; absent where that is not known.
   */
  change?: 'added';
  /** What was not done with this entry, and why. */
  note?: string;
}

export interface MountToWalk {
  n: number;
  mountPoint: string;
  /** Every entry is new (a tmpfs). */
  allAdded?: boolean;
  /** Entries born after this (ns since the epoch: the container's creation) are new. */
  addedAfterNs?: bigint;
}

export interface MountTotals {
  entries: number;
  bytes: number;
  truncated: number;
  /** Entries left out: counts over the budget, too deep, other mounts not crossed. */
  cut: string[];
}
