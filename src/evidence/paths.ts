import fs from 'node:fs';
import path from 'node:path';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Resolves an artifact's relative path inside the case root. Artifact names are ours,
 * never the container's, so a strict allow-list is enough; anything else is a bug.
 */
export function caseFile(root: string, rel: string): string {
  const parts = rel.split('/');
  if (!rel || parts.some((p) => !SEGMENT.test(p) || p === '..' || p === '.')) {
    throw new Error(`refusing artifact path "${rel}": only plain relative names are allowed`);
  }
  const full = path.join(root, ...parts);
  if (!full.startsWith(path.resolve(root) + path.sep))
    throw new Error(`artifact path "${rel}" escapes the case folder`);
  return full;
}

/** Creates the parent folders of `full` and checks none of them is a symlink leading out. */
export async function ensureParent(root: string, full: string): Promise<void> {
  const dir = path.dirname(full);
  await fs.promises.mkdir(dir, { recursive: true, mode: 0o755 });
  const realRoot = await fs.promises.realpath(root);
  const realDir = await fs.promises.realpath(dir);
  if (realDir !== realRoot && !realDir.startsWith(realRoot + path.sep)) {
    throw new Error(`folder ${dir} resolves outside the case folder`);
  }
}

/** open(2) flags for a new evidence file: never overwrite, never follow a planted symlink. */
export const NEW_FILE_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Picks `name`, or `name-2`, `name-3`… before the extension, so a re-run never overwrites evidence. */
export function freeName(root: string, rel: string): string {
  if (!present(caseFile(root, rel))) return rel;
  const dot = rel.lastIndexOf('.');
  const slash = rel.lastIndexOf('/');
  const [base, ext] = dot > slash + 1 ? [rel.slice(0, dot), rel.slice(dot)] : [rel, ''];
  for (let i = 2; ; i++) {
    const candidate = `${base}-${i}${ext}`;
    if (!present(caseFile(root, candidate))) return candidate;
  }
}

/** lstat-based: a dangling symlink counts as present (existsSync would follow it). */
function present(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch {
    return false;
  }
}

/** Writes a small new file (never over an existing one) and fsyncs it. */
export function writeNewFile(file: string, data: Buffer | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = fs.openSync(file, NEW_FILE_FLAGS, 0o644);
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
