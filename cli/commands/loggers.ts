import { type Command, Option } from 'commander';
import { addConnectOptions, connectClient, writeResult, writeTable } from '../connect/command-kit.js';
import type { LoggerLevel } from '../connect/types.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'OFF'];

/** `erpstream loggers get|set`: a worker's log levels at runtime (KIP-495; cluster scope is KIP-976, 3.7+). */
export function registerLoggersCommands(program: Command, ctx: CliContext): void {
  const group = program.command('loggers').alias('logger').description("read and change a worker's log levels");

  addConnectOptions(
    group.command('get [name]').description('levels of the loggers that have one set, or of one logger'),
  ).action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
    const client = await connectClient(ctx, cmd);
    const loggers: Record<string, LoggerLevel> =
      name === undefined ? await client.listLoggers() : { [name]: await client.getLogger(name) };
    const rows = Object.entries(loggers).map(([logger, l]) => ({
      logger,
      level: l.level,
      last_modified: typeof l.last_modified === 'number' ? new Date(l.last_modified).toISOString() : '',
    }));
    writeTable(ctx, loggers, rows, ['logger', 'level', 'last_modified']);
  });

  addConnectOptions(
    group
      .command('set <name> <level>')
      .description(`set a logger's level (${LEVELS.join(', ')}); "root" is the root logger`)
      .addOption(
        new Option('--scope <scope>', 'worker: only the worker that answers; cluster: every worker (Connect ≥ 3.7)')
          .choices(['worker', 'cluster'])
          .default('worker'),
      )
      .option('--dry-run', 'check the level; change nothing', false),
  ).action(
    async (name: string, level: string, opts: { scope: 'worker' | 'cluster'; dryRun: boolean }, cmd: Command) => {
      const wanted = level.toUpperCase();
      if (!LEVELS.includes(wanted)) {
        throw CliError.invalidInput(`Invalid log level "${level}".`, `Use one of: ${LEVELS.join(', ')}.`);
      }
      if (opts.dryRun) {
        writeResult(
          ctx,
          { logger: name, level: wanted, scope: opts.scope, written: false },
          () => `logger "${name}" would be set to ${wanted} (${opts.scope} scope); dry run\n`,
        );
        return;
      }
      const affected = await (await connectClient(ctx, cmd)).setLogger(name, wanted, opts.scope);
      writeResult(ctx, { logger: name, level: wanted, scope: opts.scope, affected: affected ?? null }, () =>
        affected === undefined
          ? `logger "${name}" set to ${wanted} on every worker (applied asynchronously)\n`
          : `logger "${name}" set to ${wanted}; loggers changed: ${affected.join(', ') || '(none)'}\n`,
      );
    },
  );
}
