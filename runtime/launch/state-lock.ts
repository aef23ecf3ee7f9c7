import { randomUUID } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, ErpStreamError } from '../api/index.js';

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

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner> | null;
    return o && typeof o.pid === 'number' && typeof o.host === 'string'
      ? { pid: o.pid, host: o.host, since: String(o.since), token: String(o.token) }
      : null;
  } catch {
    return null;
  }
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

function readOwner(file: string): LockOwner | null {
  const text = readText(file);
  return text === undefined ? null : parseOwner(text);
}

/** Creates `file` holding `text`, or fails with EEXIST: a hard link of a written file, so no reader sees it empty. */
function createWith(file: string, text: string, token: string): void {
  const tmp = `${file}.${token}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  try {
    linkSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Removes the lock judged stale from its text, unless another starter replaced it in the meantime. A rename moves
 * exactly one file aside, so of several starters judging the same dead lock only one removes it; one that moved a
 * fresh lock instead (taken over by another starter between its read and its rename) puts it back.
 */
function removeStale(file: string, judged: string, token: string): void {
  const aside = `${file}.${token}.stale`;
  try {
    renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  try {
    if (readText(aside) !== judged) linkSync(aside, file);
  } catch (e) {
    // EEXIST: a third starter created a lock in the moment the file was aside; it holds the file now.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    rmSync(aside, { force: true });
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
  // A directory the worker may not write in is the config's fault, not 'unexpected': say which key to change.
  const unwritable = (e: unknown) =>
    ConfigError.invalid(
      'offset.storage.file.filename',
      offsetFile,
      `this worker cannot create files in its directory (${(e as Error).message})`,
    );
  try {
    mkdirSync(path.dirname(file), { recursive: true });
  } catch (e) {
    throw unwritable(e);
  }
  const me: LockOwner = { pid: process.pid, host: os.hostname(), since: new Date().toISOString(), token: randomUUID() };
  const text = JSON.stringify(me);
  for (let attempt = 0; ; attempt++) {
    try {
      createWith(file, text, me.token);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw unwritable(e);
      const kind = lstatSync(file, { throwIfNoEntry: false });
      if (!kind) continue;
      if (!kind.isFile()) {
        throw new ErpStreamError(
          'ERPSTREAM_STATE_FILE',
          `${file}, the lock of offsets file ${offsetFile}, is not a file (a directory?): no worker made it; remove it (it holds no offsets).`,
        );
      }
      const held = readText(file);
      if (held === undefined) continue;
      const owner = parseOwner(held);
      const stale = owner === null || (owner.host === me.host && (owner.pid === process.pid || !alive(owner.pid)));
      // Starters racing over one stale lock: after a few rounds one of them holds it and the others see it live.
      if (!stale || attempt > 5) {
        if (owner === null) throw e;
        const where = owner.host === me.host ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.host}`;
        throw new ErpStreamError(
          'ERPSTREAM_STATE_FILE_IN_USE',
          `Offsets file ${offsetFile} is in use by another standalone worker (${where}, since ${owner.since}): ` +
            "two workers on one file overwrite each other's offsets. Stop that worker, or give this one its own " +
            `offset.storage.file.filename. If no such worker runs, delete ${file}.`,
        );
      }
      removeStale(file, held, me.token);
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
