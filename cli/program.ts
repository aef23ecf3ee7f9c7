import { Command, CommanderError, Option } from 'commander';
import { ERPSTREAM_VERSION } from '../runtime/api/index.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerConfigContextCommands } from './commands/config-contexts.js';
import { registerConnectorsCommands } from './commands/connectors.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerIntegrationCommands } from './commands/integrations.js';
import { registerLoggersCommands } from './commands/loggers.js';
import { registerOffsetsCommands } from './commands/offsets.js';
import { registerPluginsCommands } from './commands/plugins.js';
import { registerTailCommand } from './commands/tail.js';
import { registerTransformsCommands } from './commands/transforms.js';
import { registerWorkerCommands } from './commands/worker.js';
import { type CliContext, processContext, styleFor } from './context.js';
import { ExitCode, classifyError } from './errors.js';
import { OUTPUT_FORMATS, parseOutputFormat } from './output.js';

/**
 * The `erpstream` command tree. Each command group lives in cli/commands/<group>.ts and registers
 * itself here; groups to come (connectors, plugins, contexts, apply) follow the same shape.
 */
export const VERSION = ERPSTREAM_VERSION;

export function createProgram(ctx: CliContext): Command {
  const program = new Command('erpstream')
    .description('Operate erpstream and Kafka Connect compatible clusters, and test transform chains offline.')
    .version(VERSION, '-V, --version')
    .addOption(
      new Option('-o, --output <format>', 'output format for results').choices(OUTPUT_FORMATS).default('table'),
    )
    .option('--no-color', 'disable colours (also: NO_COLOR=1)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .hook('preAction', (_root, action) => {
      const opts = action.optsWithGlobals<{ output: string; color: boolean }>();
      ctx.output = parseOutputFormat(opts.output);
      ctx.noColor = opts.color === false;
    });
  registerConnectorsCommands(program, ctx);
  registerOffsetsCommands(program, ctx);
  registerPluginsCommands(program, ctx);
  registerLoggersCommands(program, ctx);
  registerConfigContextCommands(program, ctx);
  registerIntegrationCommands(program, ctx);
  registerTransformsCommands(program, ctx);
  registerWorkerCommands(program);
  registerDemoCommand(program, ctx);
  registerTailCommand(program, ctx);
  registerCompletionCommand(program, ctx);
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit (the caller does). */
export async function runCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  const program = createProgram(ctx);
  if (argv.length === 0) {
    program.outputHelp();
    return ExitCode.OK;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (unknown option, missing argument, ...).
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.OK;
      if (error.exitCode === 0) return ExitCode.OK;
      return ExitCode.INVALID_INPUT;
    }
    return reportError(error, ctx);
  }
}

export function reportError(error: unknown, ctx: CliContext): number {
  const { exitCode, message, hint } = classifyError(error);
  const style = styleFor(ctx, 'stderr');
  ctx.stderr.write(`${style.red('error:')} ${message}\n${style.dim(`hint: ${hint}`)}\n`);
  if (ctx.env.ERPSTREAM_DEBUG && error instanceof Error && error.stack) ctx.stderr.write(`${error.stack}\n`);
  return exitCode;
}
