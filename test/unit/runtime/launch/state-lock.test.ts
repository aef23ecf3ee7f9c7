import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockStateFile } from '../../../../runtime/launch/state-lock.js';

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'erpstream-lock-'));
const children: Array<{ kill(): boolean }> = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill();
});

/** A process that is alive for the test, as another worker would be. */
function otherProcess(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('one standalone worker per offsets file', () => {
  it('refuses a file a live worker holds, naming the file, its pid and what to do', () => {
    const file = path.join(dir(), 'offsets.json');
    const pid = otherProcess();
    writeFileSync(`${file}.lock`, JSON.stringify({ pid, host: os.hostname(), since: 'then', token: 'x' }));
    let err: unknown;
    try {
      lockStateFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ERPSTREAM_STATE_FILE_IN_USE' });
    const message = (err as Error).message;
    expect(message).toContain(`Offsets file ${file} is in use by another standalone worker (pid ${pid}, since then)`);
    expect(message).toContain('offset.storage.file.filename');
    expect(message).toContain(`delete ${file}.lock`);
    // The holder's lock is left alone.
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8')).pid).toBe(pid);
  });

  it('refuses a lock from another host sharing the directory (its pid cannot be checked from here)', () => {
    const file = path.join(dir(), 'offsets.json');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example', since: 'then', token: 'x' }));
    expect(() => lockStateFile(file)).toThrow(/pid 1 on elsewhere\.example/);
  });

  it('takes over a lock whose worker is gone (SIGKILL, crash) or unreadable', async () => {
    const file = path.join(dir(), 'offsets.json');
    writeFileSync(
      `${file}.lock`,
      JSON.stringify({ pid: await deadPid(), host: os.hostname(), since: 'x', token: 'x' }),
    );
    const lock = lockStateFile(file);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    writeFileSync(`${file}.lock`, '{half');
    lockStateFile(file).release();
  });

  it('an in-process restart takes the lock over, and the old instance stopping late does not remove it', () => {
    const file = path.join(dir(), 'offsets.json');
    const old = lockStateFile(file);
    const next = lockStateFile(file);
    old.release();
    expect(existsSync(next.file)).toBe(true);
    // Still held: another process is refused.
    const text = JSON.parse(readFileSync(next.file, 'utf8'));
    expect(text.pid).toBe(process.pid);
    next.release();
    expect(existsSync(next.file)).toBe(false);
  });

  it("of starters racing over one dead worker's lock, exactly one gets it", async () => {
    // Six processes take over 30 stale locks at the same instants (one every 50 ms): each must end with one holder.
    const d = dir();
    const rounds = 30;
    const dead = await deadPid();
    for (let r = 0; r < rounds; r++) {
      writeFileSync(
        path.join(d, `off${r}.lock`),
        JSON.stringify({ pid: dead, host: os.hostname(), since: 'x', token: 'x' }),
      );
    }
    const lockModule = fileURLToPath(new URL('../../../../runtime/launch/state-lock.ts', import.meta.url));
    const racer = path.join(d, 'racer.mts');
    writeFileSync(
      racer,
      `import { lockStateFile } from ${JSON.stringify(lockModule)};
process.stdout.write('ready\\n');
process.stdin.once('data', (line) => {
  const t0 = Number(String(line));
  const got = [];
  for (let r = 0; r < ${rounds}; r++) {
    while (Date.now() < t0 + r * 50) {}
    try { lockStateFile(${JSON.stringify(d)} + '/off' + r); got.push(r); } catch {}
  }
  // Holds its locks until every racer is done: a lock of an exited racer may rightly be taken over.
  process.stdout.write(JSON.stringify(got) + '\\n', () => process.stdin.once('end', () => process.exit(0)));
});`,
    );
    const racers = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', racer], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const ready = new Promise<void>((resolve) => child.stdout.on('data', () => out.startsWith('ready') && resolve()));
      const done = new Promise<number[]>((resolve) =>
        child.stdout.on('data', () => out.split('\n').length > 2 && resolve(JSON.parse(out.split('\n')[1]!))),
      );
      return { child, ready, done };
    });
    await Promise.all(racers.map((r) => r.ready));
    const t0 = Date.now() + 300;
    for (const r of racers) r.child.stdin.write(`${t0}\n`);
    const holders = new Array<number>(rounds).fill(0);
    for (const got of await Promise.all(racers.map((r) => r.done))) for (const r of got) holders[r]!++;
    for (const r of racers) r.child.stdin.end();
    expect(holders).toEqual(new Array<number>(rounds).fill(1));
  }, 60_000);

  it('a directory where the lock belongs is reported as not a file (no worker made it), not as unexpected', () => {
    const file = path.join(dir(), 'offsets.json');
    mkdirSync(`${file}.lock`);
    expect(() => lockStateFile(file)).toThrow(
      expect.objectContaining({ code: 'ERPSTREAM_STATE_FILE', message: expect.stringContaining('is not a file') }),
    );
  });

  it('an offsets path the worker cannot write names the key to change, not an unexpected error', () => {
    // A file where the directory should be: unwritable for root too, as a read-only mount would be.
    const parent = path.join(dir(), 'not-a-dir');
    writeFileSync(parent, '');
    for (const file of [path.join(parent, 'offsets.json'), path.join(parent, 'sub', 'offsets.json')]) {
      expect(() => lockStateFile(file)).toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_CONFIG',
          message: expect.stringMatching(
            /^Invalid value \S+offsets\.json for configuration offset\.storage\.file\.filename: this worker cannot create files in its directory \(/,
          ),
        }),
      );
    }
  });
});
