import { PassThrough } from 'node:stream';
import { CommanderError } from 'commander';
import { registerIntegrationCommands } from '../../../../cli/commands/integrations.js';
import type { CliContext } from '../../../../cli/context.js';
import { ExitCode } from '../../../../cli/errors.js';
import { createProgram, reportError } from '../../../../cli/program.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `erpstream <argv>` in process through the real program (global -o, errors, exit codes). */
export async function runIntegrationsCli(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = new PassThrough();
  stdin.end('');
  const ctx: CliContext = { stdin, stdout, stderr, env, exitCode: 0, output: 'table', noColor: false };
  const program = await createProgram(ctx);
  if (!program.commands.some((c) => c.name() === 'integrations')) registerIntegrationCommands(program, ctx);
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
