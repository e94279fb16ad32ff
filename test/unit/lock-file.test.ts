import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import { UserError } from '../../src/errors.js';
import { caseLockFile, claimNewCase, lockCase } from '../../src/evidence/case-lock.js';
import { isStale, readLock, tryLock } from '../../src/evidence/lock-file.js';
import { lockContainer } from '../../src/containment/container-lock.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cirt-lock-'));

/** The pid of a process that has exited (its pid is free, or re-used much later). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function plant(file: string, holder: Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    JSON.stringify({
      command: 'cirt run contain',
      token: 'planted',
      startedAt: new Date().toISOString(),
      ...holder,
    }),
  );
}

describe('lock files', () => {
  test('Given a free lock, when taken, then its file holds pid, host, start time and command, and release removes it', () => {
    const file = path.join(tmp(), 'x.lock');
    const r = tryLock(file, { command: 'cirt seal' });
    expect(r.ok).toBe(true);
    expect(readLock(file)).toMatchObject({
      pid: process.pid,
      host: os.hostname(),
      command: 'cirt seal',
    });
    expect(Number.isNaN(Date.parse(readLock(file)!.startedAt))).toBe(false);
    if (r.ok) r.lock.release();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(path.dirname(file))).toEqual([]);
  });

  test('Given a lock held by a live process, when another asks, then it is refused and told who holds it', () => {
    const file = path.join(tmp(), 'x.lock');
    plant(file, { pid: process.ppid, host: os.hostname() });
    const r = tryLock(file, { command: 'cirt run contain' });
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.holder).toMatchObject({ pid: process.ppid, host: os.hostname(), token: 'planted' });
    expect(readLock(file)?.token).toBe('planted');
  });

  test('Given a lock whose pid is dead on this host, when asked, then it is taken over and the old holder reported', () => {
    const file = path.join(tmp(), 'x.lock');
    const pid = deadPid();
    plant(file, { pid, host: os.hostname() });
    const r = tryLock(file, { command: 'cirt seal' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.tookOver).toMatchObject({ pid, token: 'planted' });
    expect(readLock(file)).toMatchObject({ pid: process.pid, command: 'cirt seal' });
    r.lock.release();
  });

  test('Given a lock from another host, when its pid is not running here, then it is not stale', () => {
    const file = path.join(tmp(), 'x.lock');
    plant(file, { pid: deadPid(), host: 'some-other-host' });
    expect(tryLock(file, { command: 'cirt seal' }).ok).toBe(false);
  });

  test('Given a live pid that started after the lock was taken, then the pid was re-used and the lock is stale', () => {
    expect(
      isStale({
        pid: process.pid,
        host: os.hostname(),
        startedAt: '2001-01-01T00:00:00.000Z',
        command: 'x',
        token: 't',
      }),
    ).toBe(true);
    expect(
      isStale({
        pid: process.pid,
        host: os.hostname(),
        startedAt: new Date().toISOString(),
        command: 'x',
        token: 't',
      }),
    ).toBe(false);
  });

  test('Given our lock was removed by hand and taken by another, when we release, then theirs stays', () => {
    const file = path.join(tmp(), 'x.lock');
    const r = tryLock(file, { command: 'cirt seal' });
    if (!r.ok) throw new Error('not taken');
    fs.unlinkSync(file);
    plant(file, { pid: process.ppid, host: os.hostname() });
    r.lock.release();
    expect(readLock(file)?.token).toBe('planted');
  });

  test('Given a case held by a live run, when a second writer locks it, then exit 2 names the case, pid, host, start time and what to do', () => {
    const dir = tmp();
    // After the holder started: an older lock of a younger pid would be a re-used pid (stale).
    const startedAt = new Date().toISOString();
    plant(caseLockFile(dir, 'c1'), { pid: process.ppid, host: os.hostname(), startedAt });
    let err: unknown;
    try {
      lockCase(dir, 'c1', 'cirt seal');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    const e = err as UserError;
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('Case c1');
    expect(e.message).toContain(`pid ${process.ppid}`);
    expect(e.message).toContain(`host ${os.hostname()}`);
    expect(e.message).toContain(startedAt);
    expect(e.message).toContain('cirt run contain');
    expect(e.hint).toContain('Wait for that command to finish');
    expect(e.hint).toContain(caseLockFile(dir, 'c1'));
  });

  test('Given a default case id that is taken, when claimed, then the next free suffix is used and the folder is made', () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'T-web'));
    const a = claimNewCase(dir, 'T-web', 'cirt run contain');
    const b = claimNewCase(dir, 'T-web', 'cirt run contain');
    expect([a.id, b.id]).toEqual(['T-web-2', 'T-web-3']);
    expect(fs.statSync(path.join(dir, 'T-web-3')).isDirectory()).toBe(true);
    a.lock.release();
    b.lock.release();
    // A cases dir holds only cases once nobody writes: the empty .locks folder goes too.
    expect(fs.readdirSync(dir).sort()).toEqual(['T-web', 'T-web-2', 'T-web-3']);
  });

  test('Given a container handled by case A, when case B wants it, then exit 2 names case A and its pid', () => {
    const env = { CIRT_LOCK_DIR: tmp() };
    const c = {
      container: { id: 'f'.repeat(64), name: 'web' },
      engine: 'unix:///var/run/docker.sock',
      command: 'cirt run contain',
    };
    const a = lockContainer(env, { ...c, caseId: 'A', caseDir: '/cases/A' });
    expect(() => lockContainer(env, { ...c, caseId: 'B', caseDir: '/cases/B' })).toThrow(
      /Container web \(ffffffffffff\) is being handled by case A \(\/cases\/A\): pid \d+ on host .* since .*; nothing was done for case B/,
    );
    // The same id on another engine is another container.
    const other = lockContainer(env, {
      ...c,
      engine: 'tcp://10.0.0.1:2376',
      caseId: 'B',
      caseDir: '/cases/B',
    });
    a.release();
    other.release();
    expect(fs.readdirSync(env.CIRT_LOCK_DIR)).toEqual([]);
  });
});
