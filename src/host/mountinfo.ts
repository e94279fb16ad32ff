/** One line of /proc/<pid>/mountinfo (proc(5)), decoded. */
export interface MountInfo {
  id: number;
  parent: number;
  /** `major:minor` of the filesystem. */
  dev: string;
  /** The path inside the mounted filesystem that is mounted here (a bind's source, relative to its fs). */
  root: string;
  /** Where it is mounted, relative to the process's root. */
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash in paths as `\ooo` octal. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/**
 * Parses mountinfo text. Lines that do not have the documented shape are returned in `bad`
 * (a container cannot write this file, but a kernel with another format must not crash us).
 */
export function parseMountInfo(text: string): { mounts: MountInfo[]; bad: string[] } {
  const mounts: MountInfo[] = [];
  const bad: string[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 10 || sep < 0 || f.length < sep + 4) {
      bad.push(line);
      continue;
    }
    mounts.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      dev: f[2],
      root: unescapeMountField(f[3]),
      mountPoint: unescapeMountField(f[4]),
      options: f[5].split(','),
      fsType: f[sep + 1],
      source: unescapeMountField(f[sep + 2]),
      superOptions: f[sep + 3].split(','),
    });
  }
  return { mounts, bad };
}
