import type { Command } from 'commander';
import { stringify as toYaml } from 'yaml';
import { stringifyJsonExact } from '../../runtime/api/exact-json.js';
import { type CliContext, styleFor } from '../context.js';
import { resolveConnectTarget } from '../contexts/resolve.js';
import { CliError } from '../errors.js';
import { type Style, renderTable } from '../output.js';
import { ConnectClient } from './client.js';

/** What every command that talks to a Connect cluster shares: its options, its client, its output. */

export interface ConnectOptions {
  connectUrl?: string;
  context?: string;
  timeout?: string;
}

export function addConnectOptions(cmd: Command): Command {
  return cmd
    .option(
      '--connect-url <url>',
      'Kafka Connect REST URL (default: $ERPSTREAM_CONNECT_URL, the current context, http://127.0.0.1:8083)',
    )
    .option('--context <name>', 'use this context from the erpstream config instead of the current one')
    .option('--timeout <ms>', 'per-request timeout in milliseconds (default 60000)');
}

export async function connectClient(ctx: CliContext, cmd: Command): Promise<ConnectClient> {
  const opts = cmd.optsWithGlobals<ConnectOptions>();
  const target = await resolveConnectTarget(opts, ctx.env);
  const style = styleFor(ctx, 'stderr');
  return new ConnectClient({
    url: target.url,
    auth: target.auth,
    timeoutMs: target.timeoutMs,
    onRetry: ({ attempt, delayMs, error }) => {
      ctx.stderr.write(
        style.dim(
          `Kafka Connect answered ${error.status} (${error.connectMessage}); retrying in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1})\n`,
        ),
      );
    },
  });
}

/** JSON/YAML print the value as is; the table form is the command's own human layout. */
export function writeResult(ctx: CliContext, value: unknown, table: (style: Style) => string): void {
  switch (ctx.output) {
    case 'json':
      ctx.stdout.write(stringifyJsonExact(value, 2) + '\n');
      return;
    case 'yaml':
      ctx.stdout.write(toYaml(value));
      return;
    case 'table':
      ctx.stdout.write(table(styleFor(ctx, 'stdout')));
  }
}

export function writeTable(
  ctx: CliContext,
  value: unknown,
  rows: ReadonlyArray<Record<string, unknown>>,
  columns: readonly string[],
): void {
  writeResult(ctx, value, (style) => renderTable(rows, columns, style));
}

/** `Key:   value` lines with aligned values (describe-style output). */
export function renderFields(fields: ReadonlyArray<[string, string]>, style: Style): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  return fields.map(([k, v]) => `${style.bold(`${k}:`.padEnd(width + 1))}${v}\n`).join('');
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseTaskId(raw: string): number {
  if (!/^\d+$/.test(raw)) {
    throw CliError.invalidInput(
      `Invalid task id "${raw}": it must be a non-negative integer.`,
      '`erpstream connectors status <name>` lists the task ids.',
    );
  }
  return Number(raw);
}

/** `key=value` from --set; the value may itself contain "=". */
export function parseAssignment(raw: string, flag: string): [string, string] {
  const at = raw.indexOf('=');
  if (at <= 0) {
    throw CliError.invalidInput(`Invalid ${flag} "${raw}": expected key=value.`, `Write e.g. ${flag} tasks.max=2.`);
  }
  return [raw.slice(0, at).trim(), raw.slice(at + 1)];
}

/** The first line of a Java stack trace: the exception and its message. */
export function traceHeadline(trace: string | undefined): string {
  return trace ? trace.split('\n')[0]!.trim() : '';
}
