import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const compiled = here.split(path.sep).includes('dist');

/** The repository root, whether this module runs from source or from dist/. */
export const repoRoot = path.resolve(here, compiled ? '../../..' : '../..');

/**
 * How to run the real `erpstream` command in a child process: the compiled CLI when the caller is compiled
 * (benchmarks), the TypeScript source through tsx otherwise (tests).
 */
export function erpstreamCommand(...args: string[]): { command: string; args: string[]; cwd: string } {
  return compiled
    ? { command: process.execPath, args: [path.join(repoRoot, 'dist/cli/main.js'), ...args], cwd: repoRoot }
    : {
        command: process.execPath,
        // erpstream-source: a plugin on plugin.path that imports `erpstream/api` gets these sources (package.json exports).
        args: ['--conditions=erpstream-source', '--import', 'tsx', path.join(repoRoot, 'cli/main.ts'), ...args],
        cwd: repoRoot,
      };
}

export interface WorkerProcess {
  proc: ChildProcess;
  /** REST URL without a trailing slash. */
  url: string;
  workerId: string;
  stderr: string[];
}

/**
 * `erpstream worker start <args>` in its own process; resolves once the worker prints its `worker.started`
 * line, and fails with the tail of its stderr if it exits or does not start in time.
 */
export function startWorkerProcess(args: string[], timeoutMs = 90_000): Promise<WorkerProcess> {
  const cli = erpstreamCommand('worker', 'start', ...args);
  const proc = spawn(cli.command, cli.args, { cwd: cli.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  return new Promise<WorkerProcess>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker did not start:\n${stderr.slice(-20).join('\n')}`)),
      timeoutMs,
    );
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      try {
        const ev = JSON.parse(l) as { event?: string; url?: string; worker_id?: string };
        if (ev.event === 'worker.started' && ev.url) {
          clearTimeout(timer);
          resolve({ proc, url: ev.url.replace(/\/$/, ''), workerId: ev.worker_id ?? '', stderr });
        }
      } catch {
        // a log line that is not JSON
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}:\n${stderr.slice(-20).join('\n')}`));
    });
  });
}
