import { randomUUID } from 'node:crypto';
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErpStreamError } from '../api/index.js';

/** What the lock file holds: enough to tell a live owner from one that died without removing it. */
interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** Which lock this is: an in-process restart shares the pid, and the old instance must not remove the new lock. */
  token: string;
}

export interface StateLock {
  readonly file: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else, which still means the file is in use.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed worker its parent has not reaped yet still answers signal 0: a zombie holds no file.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockOwner>;
    return typeof o.pid === 'number' && typeof o.host === 'string'
      ? { pid: o.pid, host: o.host, since: String(o.since), token: String(o.token) }
      : null;
  } catch {
    return null;
  }
}

/**
 * Makes one standalone worker the only writer of its offsets file (and the connector file beside it): two workers
 * on one file each rewrite it from their own copy, so one's committed offsets vanish and its source re-reads (or,
 * with the other's older offsets, skips) changes. The lock is a file created exclusively beside the offsets file.
 * A lock left by a process that is gone (a SIGKILL, a crash) is taken over; a lock from this process is too (an
 * in-process restart); a live owner on this host, or any owner on another host sharing the directory, refuses.
 */
export function lockStateFile(offsetFile: string): StateLock {
  const file = `${offsetFile}.lock`;
  mkdirSync(path.dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), token: randomUUID() };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = readOwner(file);
      const stale = owner === null || (owner.host === me.host && (owner.pid === process.pid || !alive(owner.pid)));
      // A second starter took over the same stale lock between our remove and create: it owns the file now.
      if (!stale || attempt > 1) {
        if (owner === null) throw e;
        const where = owner.host === me.host ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.host}`;
        throw new ErpStreamError(
          'ERPSTREAM_STATE_FILE_IN_USE',
          `Offsets file ${offsetFile} is in use by another standalone worker (${where}, since ${owner.since}): ` +
            "two workers on one file overwrite each other's offsets. Stop that worker, or give this one its own " +
            `offset.storage.file.filename. If no such worker runs, delete ${file}.`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Only our own lock: a worker that took over a lock it judged stale must not lose it to us.
      if (readOwner(file)?.token === me.token) rmSync(file, { force: true });
    },
  };
}
