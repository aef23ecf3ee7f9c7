import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockStateFile, takeoverMarkerOf } from '../../../../runtime/launch/state-lock.js';

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
    // Six processes take over stale locks at the same instants (one every 50 ms): each must end with one holder.
    // ERPSTREAM_SEEDS sets the rounds (default 30, CI-sized; the rename-aside takeover this replaced lost about one
    // in 300).
    const d = dir();
    const rounds = Number(process.env.ERPSTREAM_SEEDS ?? 30);
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
    // Nothing is left behind but the locks themselves.
    expect(readdirSync(d).filter((f) => /takeover|\.tmp$/.test(f))).toEqual([]);
  }, 600_000);

  it('a starter that died half-way through a takeover does not block the lock for good', async () => {
    const file = path.join(dir(), 'offsets.json');
    const dead = await deadPid();
    const stale = JSON.stringify({ pid: dead, host: os.hostname(), since: 'x', token: 'old' });
    writeFileSync(`${file}.lock`, stale);
    // What the dead starter left: its takeover marker for that lock (named after the lock's text).
    const marker = takeoverMarkerOf(`${file}.lock`, stale);
    writeFileSync(marker, JSON.stringify({ pid: dead, host: os.hostname(), since: 'x', token: 'starter' }));
    const lock = lockStateFile(file);
    expect(JSON.parse(readFileSync(lock.file, 'utf8')).pid).toBe(process.pid);
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('takeover'))).toEqual([]);
    lock.release();
  });

  it('a live starter taking over the same lock is waited for, not raced, and its lock then refuses this one', async () => {
    const file = path.join(dir(), 'offsets.json');
    const dead = await deadPid();
    const stale = JSON.stringify({ pid: dead, host: os.hostname(), since: 'x', token: 'old' });
    writeFileSync(`${file}.lock`, stale);
    const marker = takeoverMarkerOf(`${file}.lock`, stale);
    const other = otherProcess();
    writeFileSync(marker, JSON.stringify({ pid: other, host: os.hostname(), since: 'x', token: 'starter' }));
    // The other starter finishes its takeover 200 ms later: this one must not have removed the lock meanwhile.
    const finish = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs'); setTimeout(() => { fs.rmSync(${JSON.stringify(`${file}.lock`)}); ` +
          `fs.writeFileSync(${JSON.stringify(`${file}.lock`)}, JSON.stringify({ pid: ${other}, host: ${JSON.stringify(os.hostname())}, since: 'now', token: 'new' })); ` +
          `fs.rmSync(${JSON.stringify(marker)}); }, 200)`,
      ],
      { stdio: 'inherit' },
    );
    const finished = new Promise((r) => finish.once('exit', r));
    // lockStateFile blocks this thread while it waits, so it runs in a child of its own.
    const lockModule = fileURLToPath(new URL('../../../../runtime/launch/state-lock.ts', import.meta.url));
    const probe = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { lockStateFile } from ${JSON.stringify(lockModule)}; try { lockStateFile(${JSON.stringify(file)}); console.log('got it'); } catch (e) { console.log(e.code); }`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    probe.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await new Promise((r) => probe.once('exit', r));
    await finished;
    expect(out.trim()).toBe('ERPSTREAM_STATE_FILE_IN_USE');
    expect(JSON.parse(readFileSync(`${file}.lock`, 'utf8')).token).toBe('new');
  }, 30_000);

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
