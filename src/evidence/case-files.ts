import { isUtf8 } from 'node:buffer';
import fs from 'node:fs';
import path from 'node:path';

/** What is in a case folder, found by walking it without following any symlink. */
export interface FolderListing {
  /** Regular files, relative with `/`, sorted by name bytes. */
  files: { rel: string; size: number }[];
  /** Directories below the root, relative, sorted. */
  dirs: string[];
  /** Anything that is not a plain file or directory, or whose name is not UTF-8: never sealed or trusted. */
  odd: { rel: string; why: string }[];
}

/** Walks `root` (lstat only; symlinks are reported, never followed). */
export async function listFolder(root: string): Promise<FolderListing> {
  const out: FolderListing = { files: [], dirs: [], odd: [] };
  const walk = async (rel: string): Promise<void> => {
    const names = (await fs.promises.readdir(rel ? path.join(root, rel) : root, {
      encoding: 'buffer',
    })) as Buffer[];
    for (const nameBytes of names) {
      const name = nameBytes.toString('utf8');
      const r = rel ? `${rel}/${name}` : name;
      if (!isUtf8(nameBytes)) {
        out.odd.push({ rel: r, why: 'name is not valid UTF-8' });
        continue;
      }
      const st = await fs.promises.lstat(path.join(root, r));
      if (st.isDirectory()) {
        out.dirs.push(r);
        await walk(r);
      } else if (st.isFile()) out.files.push({ rel: r, size: st.size });
      else
        out.odd.push({
          rel: r,
          why: st.isSymbolicLink() ? 'is a symlink' : 'is not a regular file',
        });
    }
  };
  await walk('');
  const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));
  out.files.sort((a, b) => byBytes(a.rel, b.rel));
  out.dirs.sort(byBytes);
  return out;
}
