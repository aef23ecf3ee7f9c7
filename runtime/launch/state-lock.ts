import { createHash, randomUUID } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** A takeover in progress is a few system calls long; a marker older than this was left by a starter that died. */
const TAKEOVER_MARKER_MAX_AGE_MS = 60_000;
/** How long a starter waits for another one's takeover of the same stale lock before it reports the file in use. */
const TAKEOVER_WAIT_MS = 5_000;
const TAKEOVER_BACKOFF_MS = 2;

/** Sleeps without the event loop: taking the lock is synchronous, at start-up, before anything else runs. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The marker guarding the takeover of the lock `file` that holds `judged`: named after that text. */
export function takeoverMarkerOf(file: string, judged: string): string {
  return `${file}.takeover-${createHash('sha256').update(judged).digest('hex').slice(0, 16)}`;
}

/**
 * Removes the lock judged stale from its text, never a lock another starter made in the meantime. Removing is
 * guarded by a marker created exclusively and named after the judged text: of the starters judging the same dead
 * lock exactly one creates the marker, checks the lock still holds that text and removes it; the others back off
 * and read again, and whoever comes later with the old judgement finds a different text and leaves it. (Renaming
 * the lock aside instead cannot be undone safely: a fresh lock moved aside while a third starter creates one is lost.)
 * A marker whose starter died mid-takeover is itself a stale lock, removed the same way one level down. Returns
 * false when another starter is taking over, so the caller waits a moment before it reads again.
 */
function removeStale(file: string, judged: string, me: LockOwner, depth = 0): boolean {
  const marker = takeoverMarkerOf(file, judged);
  const mine = JSON.stringify(me);
  try {
    createWith(marker, mine, me.token);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const held = readText(marker);
    if (held === undefined) return true;
    if (depth > 3) return false;
    const owner = parseOwner(held);
    const age = Date.now() - (lstatSync(marker, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
    // Takeovers are synchronous: a marker of this process was left by one that threw half-way.
    const dead =
      owner === null ||
      age > TAKEOVER_MARKER_MAX_AGE_MS ||
      (owner.host === me.host && (owner.pid === process.pid || !alive(owner.pid)));
    if (dead) removeStale(marker, held, me, depth + 1);
    return false;
  }
  try {
    if (readText(file) === judged) rmSync(file, { force: true });
  } finally {
    rmSync(marker, { force: true });
  }
  return true;
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
  // Starters racing over one stale lock: one takes it over while the others wait for it and then see it live.
  const giveUpAt = Date.now() + TAKEOVER_WAIT_MS;
  for (;;) {
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
      if (!stale || Date.now() > giveUpAt) {
        const where =
          owner === null
            ? 'unreadable lock'
            : owner.host === me.host
              ? `pid ${owner.pid}`
              : `pid ${owner.pid} on ${owner.host}`;
        throw new ErpStreamError(
          'ERPSTREAM_STATE_FILE_IN_USE',
          `Offsets file ${offsetFile} is in use by another standalone worker (${where}, since ${owner?.since ?? '?'}): ` +
            "two workers on one file overwrite each other's offsets. Stop that worker, or give this one its own " +
            `offset.storage.file.filename. If no such worker runs, delete ${file}.`,
        );
      }
      if (!removeStale(file, held, me)) pause(TAKEOVER_BACKOFF_MS);
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
