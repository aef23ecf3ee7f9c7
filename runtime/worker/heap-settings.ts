// Imported by the CLI entry before anything else: keep it free of imports beyond node builtins.

/** Environment variable: the young generation's semi-space size, in MB, for `erpstream worker start`. */
export const SEMI_SPACE_ENV = 'ERPSTREAM_WORKER_SEMI_SPACE_MB';
/**
 * Node 24's V8 lets each semi-space grow to 64 MB (Node 20: 16 MB). A source task's batches live just long enough to
 * fill it, and a snapshot drain's peak RSS grew by about 100 MB with it, for no gain in speed (issue 18). Measured on
 * a 200,000-row drain: 404–412 MB with Node's default, 309–316 MB with 16, 293–301 MB with 8, at the same CPU per
 * row (see docs/benchmarks.md).
 */
export const DEFAULT_WORKER_SEMI_SPACE_MB = 8;
/** Set in the relaunched process: it never relaunches again, whatever it finds. */
const RELAUNCHED_ENV = 'ERPSTREAM_HEAP_RELAUNCHED';
const FLAG = '--max-semi-space-size';

export type HeapDecision =
  | { action: 'keep'; reason: string }
  | { action: 'relaunch'; flags: string[] }
  | { action: 'error'; code: 'ERPSTREAM_CONFIG'; message: string };

/**
 * Whether `erpstream <args>` should run again with V8 heap flags: only `worker start` (the long-running process),
 * and never over a setting the user made (`node --max-semi-space-size=…` or `NODE_OPTIONS`).
 */
export function workerHeapDecision(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  execArgv: readonly string[],
): HeapDecision {
  const w = args.indexOf('worker');
  if (w < 0 || args[w + 1] !== 'start') return { action: 'keep', reason: 'not `worker start`' };
  if (env[RELAUNCHED_ENV]) return { action: 'keep', reason: 'already relaunched' };
  const raw = env[SEMI_SPACE_ENV]?.trim() ?? '';
  const mb = raw === '' ? DEFAULT_WORKER_SEMI_SPACE_MB : Number(raw);
  if (!Number.isInteger(mb) || mb < 0 || mb > 1024) {
    return {
      action: 'error',
      code: 'ERPSTREAM_CONFIG',
      message: `${SEMI_SPACE_ENV}=${raw} is not a whole number of megabytes from 0 to 1024. Set it to e.g. ${DEFAULT_WORKER_SEMI_SPACE_MB}, or to 0 to keep Node's default young generation.`,
    };
  }
  if (mb === 0) return { action: 'keep', reason: `${SEMI_SPACE_ENV}=0` };
  const userSet = (a: string) => a === FLAG || a.startsWith(`${FLAG}=`) || a === '--max_semi_space_size';
  if (execArgv.some(userSet) || (env.NODE_OPTIONS ?? '').split(/\s+/).some((a) => userSet(a.split('=')[0]!))) {
    return { action: 'keep', reason: `${FLAG} is set by the user` };
  }
  return { action: 'relaunch', flags: [`${FLAG}=${mb}`] };
}

/**
 * Runs this process again, in place (same pid, same stdio: supervisors and signals see no difference), with the
 * worker's heap flags. V8 reads the young generation's size when the process starts; `v8.setFlagsFromString` later
 * has no effect on it. Where Node cannot replace the process (`process.execve`: POSIX, Node ≥ 22.15) the worker runs
 * with Node's default heap. Returns only when it does not relaunch; a bad setting exits with code 2.
 */
export function relaunchWithWorkerHeap(): void {
  const decision = workerHeapDecision(process.argv.slice(2), process.env, process.execArgv);
  if (decision.action === 'error') {
    process.stderr.write(`error: ${decision.message} (${decision.code})\n`);
    process.exit(2);
  }
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never }).execve;
  if (decision.action !== 'relaunch' || typeof execve !== 'function') return;
  execve(process.execPath, [process.execPath, ...process.execArgv, ...decision.flags, ...process.argv.slice(1)], {
    ...process.env,
    [RELAUNCHED_ENV]: '1',
  });
}
