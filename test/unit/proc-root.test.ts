import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nsToIso, statChanged } from '../../src/host/fs-stat.js';
import { ContainerRoot } from '../../src/host/proc-root.js';

// Our own /proc/<pid>/root is the host's /: the same walk a container's root gets, on files we control.
let dir: string;
let root: ContainerRoot;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-procroot-'));
  fs.mkdirSync(path.join(dir, 'real'));
  fs.writeFileSync(path.join(dir, 'real', 'file'), 'data');
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link-dir'));
  fs.symlinkSync('/etc/shadow', path.join(dir, 'shadow'));
  fs.symlinkSync('../../..', path.join(dir, 'up'));
  fs.writeFileSync(Buffer.from(`${dir}/bad\xff\xfe`, 'latin1'), 'x');
  root = ContainerRoot.open(process.pid);
});
afterAll(() => {
  root.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('stat through /proc/<pid>/root without following symlinks', () => {
  test('a regular file gets every time, in nanoseconds', () => {
    const [r] = statChanged(root, `${dir}/real/file`, 'A');
    const st = fs.lstatSync(path.join(dir, 'real', 'file'), { bigint: true });
    expect(r).toMatchObject({
      path: `${dir}/real/file`,
      kind: 'A',
      type: 'file',
      size: 4,
      inode: st.ino.toString(),
      mtime: nsToIso(st.mtimeNs),
    });
    expect(r.atime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  test('a symlinked parent directory is refused, never followed', () => {
    const [r] = statChanged(root, `${dir}/link-dir/file`, 'A');
    expect(r.error).toBe(`not looked at: ${dir}/link-dir is a symlink (not followed)`);
    expect(r.type).toBeUndefined();
    const [up] = statChanged(root, `${dir}/up/etc/shadow`, 'A');
    expect(up.error).toMatch(/up is a symlink \(not followed\)/);
  });

  test('a symlink itself is recorded as a symlink with its target text', () => {
    const [r] = statChanged(root, `${dir}/shadow`, 'A');
    expect(r).toMatchObject({
      type: 'symlink',
      linkTarget: '/etc/shadow',
      size: '/etc/shadow'.length,
    });
  });

  test('a name the engine printed with U+FFFD is found with its exact bytes', () => {
    const [r] = statChanged(root, `${dir}/bad\ufffd\ufffd`, 'C');
    expect(r.type).toBe('file');
    expect(Buffer.from(r.pathB64!, 'base64')).toEqual(Buffer.from(`${dir}/bad\xff\xfe`, 'latin1'));
  });

  test('a path that is gone says so', () => {
    expect(statChanged(root, `${dir}/nope`, 'A')[0].error).toMatch(/gone/);
  });

  test('nanosecond times format with nine digits, before 1970 too', () => {
    expect(nsToIso(1_700_000_000_123_456_789n)).toBe('2023-11-14T22:13:20.123456789Z');
    expect(nsToIso(-1n)).toBe('1969-12-31T23:59:59.999999999Z');
  });
});
