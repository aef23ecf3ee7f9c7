import type { Command } from 'commander';
import { type DefinitionValidation, rejects, renderValidation, validateDefinition } from '../connect/apply.js';
import { addConnectOptions, collect, connectClient, writeResult, writeTable } from '../connect/command-kit.js';
import { loadConnectorDefinitions } from '../connect/connector-files.js';
import { type CliContext, styleFor } from '../context.js';
import { CliError, ExitCode } from '../errors.js';

const PLUGIN_TYPES = ['source', 'sink', 'transformation', 'predicate', 'converter', 'header_converter'];

/** `erpstream plugins ...`: what a cluster has installed, each plugin's config keys, and config validation. */
export function registerPluginsCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('plugins')
    .alias('plugin')
    .description("the cluster's connector, transform and converter plugins");

  addConnectOptions(
    group
      .command('list')
      .alias('ls')
      .description('list installed plugins (connectors only unless --all or --type says otherwise)')
      .option('--all', 'include transformations, predicates and converters (Connect ≥ 3.2)', false)
      .option('-t, --type <types>', `comma-separated plugin types: ${PLUGIN_TYPES.join(', ')}`),
  ).action(async (opts: { all: boolean; type?: string }, cmd: Command) => {
    const types = opts.type
      ?.split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean);
    const unknown = types?.find((t) => !PLUGIN_TYPES.includes(t));
    if (unknown !== undefined) {
      throw CliError.invalidInput(
        `Unknown plugin type "${unknown}".`,
        `Use one or more of: ${PLUGIN_TYPES.join(', ')}.`,
      );
    }
    const connectorsOnly = !opts.all && (types === undefined || types.every((t) => t === 'source' || t === 'sink'));
    const plugins = (await (await connectClient(ctx, cmd)).listPlugins(connectorsOnly))
      .filter((p) => types === undefined || types.includes(p.type))
      .sort((a, b) => a.type.localeCompare(b.type) || a.class.localeCompare(b.class));
    writeTable(
      ctx,
      plugins,
      plugins.map((p) => ({ ...p })),
      ['class', 'type', 'version'],
    );
  });

  addConnectOptions(
    group.command('describe <class>').description("a plugin's config keys: type, default, importance, documentation"),
  ).action(async (cls: string, _opts: unknown, cmd: Command) => {
    const keys = await (await connectClient(ctx, cmd)).getPluginConfig(cls);
    const rows = keys.map((k) => ({
      name: k.name,
      type: k.type,
      required: k.required ? 'yes' : '',
      default: k.default_value,
      importance: k.importance,
      documentation: k.documentation,
    }));
    writeTable(ctx, keys, rows, ['name', 'type', 'required', 'default', 'importance', 'documentation']);
  });

  addConnectOptions(
    group
      .command('validate')
      .description("validate connector files with the cluster's plugins; exit 2 when a key is invalid")
      .requiredOption('-f, --file <file|dir|->', 'connector file, directory or - for stdin (repeatable)', collect)
      .option('--strict', 'treat unknown config keys (typos Connect ignores) as errors', false),
  ).action(async (opts: { file: string[]; strict: boolean }, cmd: Command) => {
    const defs = await loadConnectorDefinitions(opts.file, ctx.stdin);
    const client = await connectClient(ctx, cmd);
    const results: Array<
      {
        name: string;
        source: string;
        class: string | undefined;
        valid: boolean;
      } & DefinitionValidation
    > = [];
    for (const def of defs) {
      const v = await validateDefinition(client, def);
      results.push({
        name: def.name,
        source: def.source,
        class: def.config['connector.class'],
        valid: !rejects(v, opts.strict),
        ...v,
      });
    }
    const style = styleFor(ctx, 'stdout');
    writeResult(ctx, results, () =>
      results
        .map(
          (r) =>
            (r.valid
              ? `connector "${r.name}" is valid (${r.source})\n`
              : `connector "${r.name}" is invalid (${r.source}):\n`) + renderValidation(r, style, opts.strict),
        )
        .join(''),
    );
    if (results.some((r) => !r.valid)) ctx.exitCode = ExitCode.INVALID_INPUT;
  });
}
