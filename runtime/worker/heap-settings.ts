// Imported by the CLI entry before anything else: keep it free of imports beyond node builtins.

/** Environment variable: the young generation's semi-space size, in MB, for `erpstream worker start`. */
export const SEMI_SPACE_ENV = 'ERPSTREAM_WORKER_SEMI_SPACE_MB';
/**
 * Node 24's V8 lets each semi-space grow to 64 MB (Node 20: 16 MB). A source task's batches live just long enough to
 * fill it, and a snapshot drain's peak RSS grew by about 100 MB with it (issue 18): 404–412 MB with Node's default,
 * 309–316 MB with 16, 293–301 MB with 8 on a 200,000-row snapshot. Too small costs CPU instead: what is in flight
 * survives every scavenge and is copied again. A 1,000,000-change drain at max.batch.size 512 (the side-by-side
 * bench, 3 interleaved pairs, 2026-12-07) scavenged 4.5–4.8 s with 8 and 2.5–3.6 s with 16, 19.6–25.7 µs CPU per
 * event against 25.2–26.2, 42–49k events/s against 40.5–42.8k, peak RSS 232–246 MB against 224–233
 * (see docs/benchmarks.md).
 */
export const DEFAULT_WORKER_SEMI_SPACE_MB = 16;
/** Environment variable: how far V8 lets the old generation grow past what survived a full GC, in percent. */
export const HEAP_GROWING_ENV = 'ERPSTREAM_WORKER_HEAP_GROWING_PERCENT';
/**
 * After a full GC V8 lets the old generation grow to up to 4 times what survived before it collects again (on a
 * machine with more than a few GB of memory). A drain's batches outlive the 8 MB young generation and are promoted,
 * so the old generation swells between full GCs: a 1,000,000-change drain at the default `max.batch.size` peaked at
 * 389–430 MB with V8's own growing, 311–342 MB with 150%, for 3–16% more CPU per event (about 10% on average over
 * four interleaved comparisons); a LookupSink's peak fell from 399 to 337–350 MB at the same CPU per record. 100%
 * reaches 271–297 MB for +15–20% CPU (issue 18, docs/benchmarks.md). A worker's memory is what a container limit
 * kills it for, so the default bounds it; 0 keeps V8's own growing.
 */
export const DEFAULT_WORKER_HEAP_GROWING_PERCENT = 150;
/** Set in the relaunched process: it never relaunches again, whatever it finds. */
const RELAUNCHED_ENV = 'ERPSTREAM_HEAP_RELAUNCHED';
const FLAG = '--max-semi-space-size';
const GROWING_FLAG = '--heap-growing-percent';

export type HeapDecision =
  | { action: 'keep'; reason: string }
  | { action: 'relaunch'; flags: string[] }
  | { action: 'error'; code: 'ERPSTREAM_CONFIG'; message: string };

/** A whole number from the environment, its default when unset, or null when it is not one in [0, max]. */
function wholeNumber(raw: string, fallback: number, max: number): number | null {
  const n = raw === '' ? fallback : Number(raw);
  return Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}

/**
 * Whether `erpstream <args>` should run again with V8 heap flags: only `worker start` (the long-running process),
 * and never over a setting the user made (`node --max-semi-space-size=…`, `NODE_OPTIONS`); each flag on its own.
 */
export function workerHeapDecision(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  execArgv: readonly string[],
): HeapDecision {
  const w = args.indexOf('worker');
  if (w < 0 || args[w + 1] !== 'start') return { action: 'keep', reason: 'not `worker start`' };
  if (env[RELAUNCHED_ENV]) return { action: 'keep', reason: 'already relaunched' };
  const rawSemi = env[SEMI_SPACE_ENV]?.trim() ?? '';
  const mb = wholeNumber(rawSemi, DEFAULT_WORKER_SEMI_SPACE_MB, 1024);
  if (mb === null) {
    return {
      action: 'error',
      code: 'ERPSTREAM_CONFIG',
      message: `${SEMI_SPACE_ENV}=${rawSemi} is not a whole number of megabytes from 0 to 1024. Set it to e.g. ${DEFAULT_WORKER_SEMI_SPACE_MB}, or to 0 to keep Node's default young generation.`,
    };
  }
  const rawGrowing = env[HEAP_GROWING_ENV]?.trim() ?? '';
  const percent = wholeNumber(rawGrowing, DEFAULT_WORKER_HEAP_GROWING_PERCENT, 1000);
  if (percent === null) {
    return {
      action: 'error',
      code: 'ERPSTREAM_CONFIG',
      message: `${HEAP_GROWING_ENV}=${rawGrowing} is not a whole percentage from 0 to 1000. Set it to e.g. ${DEFAULT_WORKER_HEAP_GROWING_PERCENT}, or to 0 to keep V8's own heap growing.`,
    };
  }
  const nodeOptions = (env.NODE_OPTIONS ?? '').split(/\s+/).map((a) => a.split('=')[0]!);
  const userSet = (flag: string) => {
    const snake = flag.replaceAll('-', '_').replace(/^__/, '--');
    const is = (a: string) => a === flag || a.startsWith(`${flag}=`) || a === snake || a.startsWith(`${snake}=`);
    return execArgv.some(is) || nodeOptions.some(is);
  };
  const flags: string[] = [];
  if (mb > 0 && !userSet(FLAG)) flags.push(`${FLAG}=${mb}`);
  if (percent > 0 && !userSet(GROWING_FLAG)) flags.push(`${GROWING_FLAG}=${percent}`);
  if (flags.length === 0) return { action: 'keep', reason: 'the heap flags are set by the user or turned off' };
  return { action: 'relaunch', flags };
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
