import { Writable } from 'node:stream';
import { type Command, Option } from 'commander';
import type { CliContext } from './context.js';
import { CliError } from './errors.js';
import { sleep } from '../runtime/api/sleep.js';

/**
 * `--watch`: draw a view again every interval until Ctrl-C. On a terminal each round replaces the previous one
 * in place (cursor home, clear to the end); piped, rounds follow each other under a timestamp line, so a log
 * keeps the history. A round that fails (the cluster went away) shows the error and the watch goes on.
 */
export async function watchView(
  ctx: CliContext,
  draw: (ctx: CliContext) => Promise<void>,
  options: { intervalMs: number; rounds?: number; signal?: AbortSignal },
): Promise<void> {
  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  options.signal?.addEventListener('abort', onSigint, { once: true });
  try {
    for (let round = 1; !stop.signal.aborted; round++) {
      let text = '';
      const capture = new Writable({
        write(chunk: Buffer | string, _enc, done) {
          text += chunk.toString();
          done();
        },
      });
      const roundCtx: CliContext = Object.assign(Object.create(ctx) as CliContext, {
        stdout: Object.assign(capture, { isTTY: ctx.stdout.isTTY }),
      });
      try {
        await draw(roundCtx);
      } catch (error) {
        text += `error: ${error instanceof Error ? error.message : String(error)}\n`;
      }
      const header = `Every ${(options.intervalMs / 1000).toFixed(1)} s · ${new Date().toISOString()} · Ctrl-C to stop\n\n`;
      ctx.stdout.write(ctx.stdout.isTTY ? `\x1b[H\x1b[J${header}${text}` : `${header}${text}\n`);
      if (options.rounds !== undefined && round >= options.rounds) break;
      await sleep(options.intervalMs, stop.signal);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `--watch [seconds]` as commander gives it: true (the default interval) or a number of seconds. */
export function watchInterval(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 2000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.5) {
    throw CliError.invalidInput(`--watch "${value}" is not an interval.`, 'Give seconds, at least 0.5 (default 2).');
  }
  return Math.round(seconds * 1000);
}

export interface WatchOptions {
  watch?: string | boolean;
  watchRounds?: string;
}

/** Adds `-w, --watch [seconds]` (and a hidden round limit for tests and scripts). */
export function addWatchOption(cmd: Command): Command {
  return cmd
    .addOption(new Option('-w, --watch [seconds]', 'redraw every few seconds (default 2) until Ctrl-C'))
    .addOption(new Option('--watch-rounds <n>', 'stop after n rounds').hideHelp());
}

/** Runs `draw` once, or under --watch again and again. */
export async function drawOrWatch(
  ctx: CliContext,
  opts: WatchOptions,
  draw: (ctx: CliContext) => Promise<void>,
): Promise<void> {
  const intervalMs = watchInterval(opts.watch);
  if (intervalMs === undefined) return draw(ctx);
  const rounds = opts.watchRounds === undefined ? undefined : Number(opts.watchRounds);
  await watchView(ctx, draw, { intervalMs, ...(rounds !== undefined ? { rounds } : {}) });
}
