import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const STACK = path.resolve(import.meta.dirname, '../../../scripts/stack');

/** `scripts/stack env` on a stack dir of our own (it only reads files and /proc: nothing is started). */
function env(stackDir: string): Record<string, string> {
  const out = execFileSync('bash', [STACK, 'env'], {
    env: { ...process.env, ERPSTREAM_STACK_DIR: stackDir, ERPSTREAM_KAFKA_VERSION: '' },
    encoding: 'utf8',
  });
  return Object.fromEntries([...out.matchAll(/^export (\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}

describe('scripts/stack env: the running Kafka version', () => {
  let dir: string | undefined;
  let fake: ChildProcess | undefined;
  afterEach(() => {
    fake?.kill();
    fake = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function stackDir(): string {
    dir = mkdtempSync(path.join(os.tmpdir(), 'erpstream-stack-env-'));
    mkdirSync(path.join(dir, 'run'), { recursive: true });
    mkdirSync(path.join(dir, 'lib', 'broker'), { recursive: true });
    return dir;
  }

  it('reads a broker started before run files existed from its classpath, not the default', async () => {
    const d = stackDir();
    writeFileSync(path.join(d, 'lib', 'broker', 'kafka-clients-3.9.1.jar'), '');
    // A stand-in for the JVM: alive, its command line names the stack dir and carries `-cp <lib>/*`.
    fake = spawn('bash', ['-c', 'sleep 30; :', 'kafka', '-cp', `${d}/lib/broker/*`], { stdio: 'ignore' });
    writeFileSync(path.join(d, 'run', 'kafka.pid'), String(fake.pid));
    await new Promise((r) => setTimeout(r, 200));
    expect(env(d).ERPSTREAM_STACK_KAFKA_VERSION).toBe('3.9.1');
  });

  it('prefers the run file, and falls back to the default with nothing running', () => {
    const d = stackDir();
    expect(env(d).ERPSTREAM_STACK_KAFKA_VERSION).toMatch(/^4\./);
    writeFileSync(path.join(d, 'run', 'kafka.version'), '4.4.0\n');
    expect(env(d).ERPSTREAM_STACK_KAFKA_VERSION).toBe('4.4.0');
  });
});
