import type { Readable, Writable } from 'node:stream';
import { type OutputFormat, type Style, colorEnabled, colorStyle, plainStyle } from './output.js';

/** What a command may touch: its streams and environment (injected, so commands run in tests too). */
export interface CliContext {
  readonly stdin: Readable;
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Set by a command that finished with a non-zero outcome without throwing. */
  exitCode: number;
  /** Global options, filled in before a command's action runs. */
  output: OutputFormat;
  noColor: boolean;
}

export function processContext(): CliContext {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exitCode: 0,
    output: 'table',
    noColor: false,
  };
}

export function styleFor(ctx: CliContext, stream: 'stdout' | 'stderr'): Style {
  return colorEnabled(ctx[stream], ctx.env, ctx.noColor) ? colorStyle : plainStyle;
}
