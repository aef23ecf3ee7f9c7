import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { YamlLoadError, loadYaml } from '../../runtime/api/index.js';
import { parseJsonExact } from '../../runtime/api/exact-json.js';
import { stringifyJsonExact } from '../../runtime/api/exact-json.js';
import { addConnectOptions, connectClient, writeResult, writeTable } from '../connect/command-kit.js';
import type { ConnectorOffset, ConnectorOffsets } from '../connect/types.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';

/**
 * `erpstream offsets get|set|reset <connector>` (KIP-875). Changing offsets needs the connector STOPPED
 * (`erpstream connectors stop`); Connect says so if it is not.
 */
export function registerOffsetsCommands(program: Command, ctx: CliContext): void {
  const group = program
    .command('offsets')
    .description("read, change or reset a connector's offsets (Connect ≥ 3.6 to change)");

  addConnectOptions(group.command('get <name>').description("a connector's committed offsets")).action(
    async (name: string, _opts: unknown, cmd: Command) => {
      const offsets = await (await connectClient(ctx, cmd)).getOffsets(name);
      const rows = offsets.offsets.map((o) => ({ partition: o.partition, offset: o.offset }));
      writeTable(ctx, offsets, rows, ['partition', 'offset']);
    },
  );

  addConnectOptions(
    group
      .command('set <name>')
      .description(
        'change offsets of a STOPPED connector: from a file, a source partition/offset, or a sink topic-partition',
      )
      .option(
        '-f, --file <file|->',
        'ConnectorOffsets document {"offsets": [{"partition": {...}, "offset": {...}}]} (JSON or YAML)',
      )
      .option('--partition <json>', 'source partition, e.g. \'{"filename": "/data/in.txt"}\'')
      .option('--offset <json>', "source offset, e.g. '{\"position\": 42}'; null removes the partition's offset")
      .option('--kafka-topic <topic>', 'sink connectors: the topic')
      .option('--kafka-partition <n>', 'sink connectors: the partition')
      .option('--kafka-offset <n>', 'sink connectors: the next offset to consume')
      .option('--dry-run', 'print the request; change nothing', false),
  ).action(async (name: string, opts: OffsetFlags & { dryRun: boolean }, cmd: Command) => {
    const body = await offsetsFromFlags(opts, ctx.stdin);
    if (opts.dryRun) {
      writeResult(ctx, body, () => `dry run: would send to connector "${name}":\n${stringifyJsonExact(body, 2)}\n`);
      return;
    }
    const result = await (await connectClient(ctx, cmd)).alterOffsets(name, body);
    writeResult(ctx, result, () => `${result.message}\n`);
  });

  addConnectOptions(
    group
      .command('reset <name>')
      .description('forget all offsets of a STOPPED connector: it starts from scratch when resumed')
      .option('--dry-run', 'show the offsets that would be reset; change nothing', false),
  ).action(async (name: string, opts: { dryRun: boolean }, cmd: Command) => {
    const client = await connectClient(ctx, cmd);
    if (opts.dryRun) {
      const current = await client.getOffsets(name);
      // The real reset needs a STOPPED connector; a dry run that said "would be reset" for a running one misled.
      const state = await client
        .getConnectorStatus(name)
        .then((s) => s.connector.state)
        .catch(() => undefined);
      const notStopped =
        state !== undefined && state !== 'STOPPED'
          ? `; but the connector is ${state}: run \`erpstream connectors stop ${name}\` first, or Connect refuses the reset\n`
          : '\n';
      writeResult(
        ctx,
        current,
        () => `dry run: ${current.offsets.length} offset(s) of connector "${name}" would be reset${notStopped}`,
      );
      return;
    }
    const result = await client.resetOffsets(name);
    writeResult(ctx, result, () => `${result.message}\n`);
  });
}

interface OffsetFlags {
  file?: string;
  partition?: string;
  offset?: string;
  kafkaTopic?: string;
  kafkaPartition?: string;
  kafkaOffset?: string;
}

export async function offsetsFromFlags(opts: OffsetFlags, stdin: Readable): Promise<ConnectorOffsets> {
  const forms = [
    opts.file !== undefined,
    opts.partition !== undefined || opts.offset !== undefined,
    opts.kafkaTopic !== undefined || opts.kafkaPartition !== undefined || opts.kafkaOffset !== undefined,
  ].filter(Boolean).length;
  if (forms !== 1) {
    throw CliError.invalidInput(
      forms === 0 ? 'No offsets given.' : 'Give offsets one way only.',
      'Use -f <file>, or --partition <json> --offset <json> (source), or --kafka-topic/--kafka-partition/--kafka-offset (sink).',
    );
  }
  if (opts.file !== undefined)
    return offsetsDocument(await readText(opts.file, stdin), opts.file === '-' ? 'stdin' : opts.file);
  if (opts.kafkaTopic !== undefined || opts.kafkaPartition !== undefined || opts.kafkaOffset !== undefined) {
    if (!opts.kafkaTopic || opts.kafkaPartition === undefined || opts.kafkaOffset === undefined) {
      throw CliError.invalidInput(
        '--kafka-topic, --kafka-partition and --kafka-offset go together.',
        'Give all three.',
      );
    }
    const partition = integer(opts.kafkaPartition, '--kafka-partition');
    const offset = opts.kafkaOffset === 'null' ? null : { kafka_offset: integer(opts.kafkaOffset, '--kafka-offset') };
    return { offsets: [{ partition: { kafka_topic: opts.kafkaTopic, kafka_partition: Number(partition) }, offset }] };
  }
  if (opts.partition === undefined || opts.offset === undefined) {
    throw CliError.invalidInput(
      '--partition and --offset go together.',
      'Give both (use --offset null to remove a partition).',
    );
  }
  const partition = jsonObject(opts.partition, '--partition', false);
  const offset = jsonObject(opts.offset, '--offset', true);
  return { offsets: [{ partition: partition!, offset }] };
}

function offsetsDocument(text: string, source: string): ConnectorOffsets {
  let doc: unknown;
  try {
    doc = loadYaml(text, source, { intAsBigInt: true });
  } catch (error) {
    if (!(error instanceof YamlLoadError)) throw error;
    throw CliError.invalidInput(`Offsets file ${error.message}`, 'Fix the syntax.', error);
  }
  const offsets = (doc as { offsets?: unknown } | null)?.offsets;
  if (!Array.isArray(offsets) || offsets.length === 0) {
    throw CliError.invalidInput(
      `Offsets file ${source} needs a non-empty "offsets" list.`,
      'Write {"offsets": [{"partition": {...}, "offset": {...}}]}; `erpstream offsets get <name> -o json` prints one.',
    );
  }
  offsets.forEach((o: unknown, i) => {
    const entry = o as Partial<ConnectorOffset> | null;
    if (!entry || typeof entry.partition !== 'object' || entry.partition === null || entry.offset === undefined) {
      throw CliError.invalidInput(
        `Offsets file ${source}: offsets[${i}] needs "partition" (an object) and "offset" (an object or null).`,
        'Each entry is {"partition": {...}, "offset": {...}}.',
      );
    }
  });
  return { offsets: offsets as ConnectorOffset[] };
}

function jsonObject(text: string, flag: string, nullable: boolean): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = parseJsonExact(text);
  } catch (error) {
    throw CliError.invalidInput(
      `${flag} is not valid JSON: ${(error as Error).message}.`,
      `Quote it for the shell, e.g. ${flag} '{"key": 1}'.`,
      error,
    );
  }
  if (value === null && nullable) return null;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw CliError.invalidInput(
      `${flag} must be a JSON object${nullable ? ' or null' : ''}.`,
      `e.g. ${flag} '{"key": 1}'.`,
    );
  }
  return value as Record<string, unknown>;
}

function integer(raw: string, flag: string): bigint {
  if (!/^\d+$/.test(raw.trim())) throw CliError.invalidInput(`${flag} must be a non-negative integer, got "${raw}".`);
  return BigInt(raw.trim());
}

async function readText(file: string, stdin: Readable): Promise<string> {
  if (file !== '-') {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      throw CliError.invalidInput(
        `Cannot read offsets file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        'Check the path.',
        error,
      );
    }
  }
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
  return text;
}
