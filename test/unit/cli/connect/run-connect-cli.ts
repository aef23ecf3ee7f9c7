import { PassThrough } from 'node:stream';
import { CommanderError } from 'commander';
import { registerConfigContextCommands } from '../../../../cli/commands/config-contexts.js';
import { registerConnectorsCommands } from '../../../../cli/commands/connectors.js';
import { registerLoggersCommands } from '../../../../cli/commands/loggers.js';
import { registerOffsetsCommands } from '../../../../cli/commands/offsets.js';
import { registerPluginsCommands } from '../../../../cli/commands/plugins.js';
import type { CliContext } from '../../../../cli/context.js';
import { ExitCode } from '../../../../cli/errors.js';
import { createProgram, reportError } from '../../../../cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `erpstream <argv>` in process, through the real program (global -o, error reporting, exit codes),
 * with the Connect command groups registered if the program does not wire them in yet.
 */
export async function runConnectCli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; stdin?: string } = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = new PassThrough();
  stdin.end(options.stdin ?? '');
  const ctx: CliContext = {
    stdin,
    stdout,
    stderr,
    env: options.env ?? {},
    exitCode: 0,
    output: 'table',
    noColor: false,
  };
  const program = await createProgram(ctx);
  const have = new Set(program.commands.map((c) => c.name()));
  if (!have.has('connectors')) registerConnectorsCommands(program, ctx);
  if (!have.has('plugins')) registerPluginsCommands(program, ctx);
  if (!have.has('offsets')) registerOffsetsCommands(program, ctx);
  if (!have.has('loggers')) registerLoggersCommands(program, ctx);
  if (!have.has('config')) registerConfigContextCommands(program, ctx);
  let code: number;
  try {
    await program.parseAsync(argv, { from: 'user' });
    code = ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) code = error.exitCode === 0 ? ExitCode.OK : ExitCode.INVALID_INPUT;
    else code = reportError(error, ctx);
  }
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out, stderr: err };
}
