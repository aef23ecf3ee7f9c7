import { createReadStream, createWriteStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { DecimalFormat } from '../../runtime/converters/json-data.js';
import { builtinRegistry } from '../../bundle/builtin.js';
import { ConfigError, type RawConfig } from '../../runtime/api/index.js';
import { TransformChain } from '../../runtime/transforms/index.js';
import { errorTolerance } from '../../runtime/worker/connector-settings.js';
import { loadConnectorConfig } from '../config-file.js';
import { type CliContext, styleFor } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { renderResult } from '../output.js';
import { runRecords } from '../transforms-run/runner.js';

/** `erpstream transforms ...`: run a connector's transform chain offline, list the installed SMTs. */
export function registerTransformsCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('transforms')
    .description('single message transforms: run chains offline, list plugins');

  group
    .command('run')
    .description(
      'apply the transform chain of a connector config to JSONL records (file or stdin), writing JSONL to stdout',
    )
    .requiredOption('-c, --config <file>', 'connector config (JSON, YAML or .properties)')
    .option('-i, --input <file>', 'JSONL records, one per line (default: stdin; "-" also means stdin)')
    .option('--dlq <file>', 'with errors.tolerance=all, write failing records here with __connect.errors.* context')
    .addHelpText(
      'after',
      `
Record line: {"topic": "t", "partition": 0, "key": ..., "value": ..., "headers": {...}, "timestamp": 0}
Key/value: plain JSON (schemaless) or a JsonConverter envelope {"schema": ..., "payload": ...}.
Exit codes: 0 ok, 2 invalid config / record / JSON line (stderr names the line, alias and field).`,
    )
    .action(async (opts: { config: string; input?: string; dlq?: string }) => {
      ctx.exitCode = await transformsRun(ctx, opts);
    });

  group
    .command('list')
    .description('list the installed transformations and predicates')
    .action(() => {
      const registry = builtinRegistry();
      const rows = [...registry.list('transformation'), ...registry.list('predicate')].map((p) => ({
        type: p.type,
        class: p.className,
        aliases: [...(p.aliases ?? [])],
        summary: p.summary,
      }));
      ctx.stdout.write(
        renderResult(rows, ['type', 'class', 'aliases', 'summary'], ctx.output, styleFor(ctx, 'stdout')),
      );
    });
}

async function transformsRun(ctx: CliContext, opts: { config: string; input?: string; dlq?: string }): Promise<number> {
  const { name, config } = await loadConnectorConfig(opts.config);
  const style = styleFor(ctx, 'stderr');
  let tolerance: 'none' | 'all';
  try {
    // An empty YAML value (null) is unset, as before; a list or a map fails parsing with the same ConfigError as a
    // wrong string.
    tolerance = errorTolerance({ 'errors.tolerance': (config['errors.tolerance'] ?? undefined) as RawConfig[string] });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw CliError.invalidInput(
      `Invalid value ${JSON.stringify(config['errors.tolerance'])} for configuration errors.tolerance: String must be one of: none, all`,
      `Set errors.tolerance to "none" (stop at the first failing record) or "all" (skip it, to --dlq if given) in ${opts.config}.`,
      error,
    );
  }
  const decimalFormat = String(config['value.converter.decimal.format'] ?? 'NUMERIC').toUpperCase();
  if (decimalFormat !== 'NUMERIC' && decimalFormat !== 'BASE64') {
    throw CliError.invalidInput(
      `Invalid value ${JSON.stringify(decimalFormat)} for configuration value.converter.decimal.format: String must be one of: BASE64, NUMERIC`,
    );
  }
  const fromStdin = opts.input === undefined || opts.input === '-';
  if (!fromStdin) {
    await access(opts.input!).catch((error: unknown) => {
      throw CliError.invalidInput(
        `Cannot read records file ${opts.input}: no such file or not readable.`,
        'Pass JSONL records with -i <file>, or pipe them on stdin.',
        error,
      );
    });
  }
  if (opts.dlq !== undefined && tolerance === 'none') {
    ctx.stderr.write(
      `${style.yellow('warning:')} --dlq is used only with errors.tolerance=all; ${opts.config} has errors.tolerance=none, so the first failing record stops the run.\n`,
    );
  }

  const chain = await TransformChain.build(config, { registry: builtinRegistry() });
  const inputName = fromStdin ? 'stdin' : opts.input!;
  const dlq = opts.dlq !== undefined && tolerance === 'all' ? createWriteStream(opts.dlq) : null;
  try {
    const summary = await runRecords({
      chain,
      input: fromStdin ? ctx.stdin : createReadStream(opts.input!),
      inputName,
      output: ctx.stdout,
      errors: ctx.stderr,
      dlq,
      tolerance,
      connectorName: name ?? String(config.name ?? 'transforms-run'),
      json: { decimalFormat: decimalFormat as DecimalFormat },
    });
    if (summary.fatal !== null) {
      const hint =
        summary.fatal.kind === 'json'
          ? 'Each line must be one JSON object; fix the line named above.'
          : 'Fix the record or the transform config; or set errors.tolerance=all and pass --dlq <file> to collect failing records and go on.';
      ctx.stderr.write(
        `${style.red('error:')} ${inputName}:${summary.fatal.line}: ${summary.fatal.message}\n${style.dim(`hint: ${hint}`)}\n`,
      );
      return ExitCode.INVALID_INPUT;
    }
    if (summary.failed > 0 || ctx.stderr.isTTY) {
      const toDlq = dlq
        ? `, ${summary.failed} to ${opts.dlq}`
        : summary.failed > 0
          ? `, ${summary.failed} skipped`
          : '';
      ctx.stderr.write(
        style.dim(`${summary.read} records read, ${summary.written} written, ${summary.dropped} dropped${toDlq}\n`),
      );
    }
    return ExitCode.OK;
  } finally {
    if (dlq) await closeStream(dlq);
    await chain.close();
  }
}

function closeStream(stream: Writable): Promise<void> {
  return new Promise((resolve, reject) => stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
}
