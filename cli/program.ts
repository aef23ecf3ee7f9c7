import { Command, CommanderError, Option } from 'commander';
import { ERPSTREAM_VERSION } from '../runtime/api/plugin.js';
import { type CliContext, processContext, styleFor } from './context.js';
import { ExitCode, classifyError } from './errors.js';
import { OUTPUT_FORMATS, parseOutputFormat } from './output.js';

/**
 * The `erpstream` command tree. Each command group lives in cli/commands/<group>.ts and registers itself;
 * groups are imported only when the command line names them, so `erpstream --help` and quick commands do
 * not pay for the worker runtime, the Kafka clients and the database drivers (seconds under tsx).
 */
export const VERSION = ERPSTREAM_VERSION;

type Register = (program: Command, ctx: CliContext) => void;

interface CommandGroup {
  /** Top-level command names the group registers, each with its root help line. */
  commands: Record<string, string>;
  aliases?: Record<string, string>;
  load: () => Promise<Register>;
}

/** Order is the order of `erpstream --help`. Descriptions must match the group's own (a unit test checks). */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  {
    commands: {
      connectors: 'create, apply and operate connectors',
      tasks: 'operate single connector tasks',
    },
    aliases: { connector: 'connectors', task: 'tasks' },
    load: async () => (await import('./commands/connectors.js')).registerConnectorsCommands,
  },
  {
    commands: { offsets: "read, change or reset a connector's offsets (Connect ≥ 3.6 to change)" },
    load: async () => (await import('./commands/offsets.js')).registerOffsetsCommands,
  },
  {
    commands: { plugins: "the cluster's connector, transform and converter plugins" },
    aliases: { plugin: 'plugins' },
    load: async () => (await import('./commands/plugins.js')).registerPluginsCommands,
  },
  {
    commands: { loggers: "read and change a worker's log levels" },
    aliases: { logger: 'loggers' },
    load: async () => (await import('./commands/loggers.js')).registerLoggersCommands,
  },
  {
    commands: { config: 'contexts: named Kafka Connect clusters and their credentials' },
    load: async () => (await import('./commands/config-contexts.js')).registerConfigContextCommands,
  },
  {
    commands: { integrations: 'onboard customers with integration files: validate, test, plan, apply, list, delete' },
    load: async () => (await import('./commands/integrations.js')).registerIntegrationCommands,
  },
  {
    commands: { transforms: 'single message transforms: run chains offline, list plugins' },
    load: async () => (await import('./commands/transforms.js')).registerTransformsCommands,
  },
  {
    commands: { worker: 'run a Kafka-Connect-compatible worker (standalone or distributed)' },
    load: async () => (await import('./commands/worker.js')).registerWorkerCommands,
  },
  {
    commands: { erp: 'prepare ERP databases for capture: change tables, triggers, grants' },
    load: async () => (await import('./commands/erp.js')).registerErpCommands,
  },
  {
    commands: { demo: 'run the ERP → Kafka → per-customer demo end to end and prove nothing was lost' },
    load: async () => (await import('./commands/demo.js')).registerDemoCommand,
  },
  {
    commands: { trace: 'follow one business key: origin, source events, parked, per-customer deliveries, DLQ entries' },
    load: async () => (await import('./commands/trace.js')).registerTraceCommand,
  },
  {
    commands: { tail: 'print the records of a topic, decoded (Avro through the schema registry, JSON, text)' },
    load: async () => (await import('./commands/tail.js')).registerTailCommand,
  },
  {
    commands: { completion: 'print a shell completion script (bash or zsh); connector names complete live' },
    load: async () => (await import('./commands/completion.js')).registerCompletionCommand,
  },
];

/** Global options that take a value: their value is not the command word. */
const GLOBAL_VALUE_OPTIONS = new Set(['-o', '--output', '--context']);

/** The top-level command the arguments name (`help <cmd>` included), or undefined. */
export function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1];
    if (arg.startsWith('-')) {
      if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
      continue;
    }
    if (arg === 'help') return argv.slice(i + 1).find((a) => !a.startsWith('-'));
    return arg;
  }
  return undefined;
}

function groupOf(word: string): CommandGroup | undefined {
  return COMMAND_GROUPS.find((g) => word in g.commands || (g.aliases !== undefined && word in g.aliases));
}

/**
 * The program with the command groups `argv` needs loaded (all of them when argv is not given, or for
 * `completion`, which walks the whole tree); the others appear in help by name and description only.
 */
export async function createProgram(ctx: CliContext, argv?: readonly string[]): Promise<Command> {
  const program = new Command('erpstream')
    .description('Operate erpstream and Kafka Connect compatible clusters, and test transform chains offline.')
    .version(VERSION, '-V, --version')
    .addOption(
      new Option('-o, --output <format>', 'output format for results').choices(OUTPUT_FORMATS).default('table'),
    )
    .option('--context <name>', 'use this context from the erpstream config (before or after the command)')
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
  const word = argv === undefined ? undefined : commandWord(argv);
  const wanted = argv === undefined || word === 'completion' ? undefined : word === undefined ? null : groupOf(word);
  for (const group of COMMAND_GROUPS) {
    if (wanted === undefined || wanted === group) {
      (await group.load())(program, ctx);
      continue;
    }
    for (const [name, description] of Object.entries(group.commands)) {
      const placeholder = program.command(name).description(description);
      for (const [alias, target] of Object.entries(group.aliases ?? {})) if (target === name) placeholder.alias(alias);
    }
  }
  return program;
}

/** Runs the CLI and returns the exit code; never calls process.exit (the caller does). */
export async function runCli(argv: readonly string[], ctx: CliContext = processContext()): Promise<number> {
  try {
    const program = await createProgram(ctx, argv);
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.OK;
    }
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
