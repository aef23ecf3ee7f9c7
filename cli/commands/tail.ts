import { randomBytes } from 'node:crypto';
import { type Command, Option } from 'commander';
import { parseJsonExact, stringifyJsonExact } from '../../runtime/api/index.js';
import { AvroConverter, connectToJson, jsonSchemaToConnect, jsonToConnect } from '../../runtime/converters/index.js';
import {
  type Admin,
  type Consumer,
  type KafkaMessage,
  createConsumer,
  createKafka,
} from '../../runtime/kafka/index.js';
import { type CliContext, styleFor } from '../context.js';
import { CliError } from '../errors.js';
import { ProgressLine } from '../demo/progress.js';

/**
 * `erpstream tail <topic>`: what is on a topic, decoded. Confluent-framed Avro (magic byte 0 + schema id) is
 * decoded through the schema registry, JSON (with or without Connect's schema envelope) is parsed exactly, and
 * anything else is shown as text or base64. Without --follow it reads up to the end offsets it found at start
 * and prints the counts.
 */

export const TAIL_FORMATS = ['auto', 'avro', 'json', 'string'] as const;
export type TailFormat = (typeof TAIL_FORMATS)[number];

export interface Decoded {
  /** How the bytes were read: avro, json, string, base64, or null (a null key/value). */
  format: 'avro' | 'json' | 'string' | 'base64' | 'null';
  /** A JSON-able value (exact numbers as JsonNumberText, for stringifyJsonExact). */
  value: unknown;
  schemaId?: number;
}

/** Reads keys and values the way the demo's and a Connect cluster's converters wrote them. */
export class RecordDecoder {
  private readonly avro: { key: AvroConverter; value: AvroConverter } | undefined;

  constructor(private readonly options: { registryUrl?: string | undefined; format?: TailFormat } = {}) {
    if (options.registryUrl) {
      const key = new AvroConverter();
      key.configure({ 'schema.registry.url': options.registryUrl }, true);
      const value = new AvroConverter();
      value.configure({ 'schema.registry.url': options.registryUrl }, false);
      this.avro = { key, value };
    }
  }

  async decode(topic: string, bytes: Buffer | null, isKey: boolean): Promise<Decoded> {
    if (bytes === null) return { format: 'null', value: null };
    const format = this.options.format ?? 'auto';
    const framed = bytes.length >= 5 && bytes[0] === 0;
    if (format === 'avro' || (format === 'auto' && framed)) {
      if (!this.avro) {
        if (format === 'avro') {
          throw CliError.invalidInput(
            'Avro decoding needs the schema registry.',
            'Pass --schema-registry-url or set SCHEMA_REGISTRY_URL (e.g. eval "$(scripts/stack env)").',
          );
        }
      } else {
        const { schema, value } = await (isKey ? this.avro.key : this.avro.value).toConnectData(topic, [], bytes);
        return {
          format: 'avro',
          value: connectToJson(schema, value, { decimalFormat: 'NUMERIC' }),
          schemaId: bytes.readInt32BE(1),
        };
      }
    }
    const text = bytes.toString('utf8');
    // Text only if it is valid UTF-8 without control characters (an Avro record read without the registry
    // would otherwise write NULs and escapes to the terminal).
    const printable = Buffer.from(text, 'utf8').equals(bytes) && !hasControlCharacters(text);
    if (format === 'json' || format === 'auto') {
      try {
        const json = parseJsonExact(text);
        // Connect's JsonConverter with schemas.enable=true wraps the value: show the payload.
        const isEnvelope =
          json !== null &&
          typeof json === 'object' &&
          !Array.isArray(json) &&
          'schema' in json &&
          'payload' in json &&
          Object.keys(json).length === 2;
        return {
          format: 'json',
          value: isEnvelope ? readablePayload(json as { schema: unknown; payload: unknown }) : json,
        };
      } catch (error) {
        if (format === 'json')
          throw CliError.invalidInput(
            `A record on ${topic} is not JSON: ${(error as Error).message}`,
            'Use --format auto or string.',
          );
      }
    }
    return printable ? { format: 'string', value: text } : { format: 'base64', value: bytes.toString('base64') };
  }
}

/**
 * The payload of Connect's envelope with its logical types read through the schema, as the Avro path shows them:
 * a Decimal is `10.50`, not the base64 of its unscaled bytes (`"BBo="`). An envelope whose schema does not fit
 * its payload is shown as written.
 */
function readablePayload(envelope: { schema: unknown; payload: unknown }): unknown {
  try {
    const schema = jsonSchemaToConnect(envelope.schema);
    return connectToJson(schema, jsonToConnect(schema, envelope.payload), { decimalFormat: 'NUMERIC' });
  } catch {
    return envelope.payload;
  }
}

function hasControlCharacters(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f) return true;
  }
  return false;
}

/** The single id a key stands for: a primitive, or the one field of a key struct. */
export function keyId(decoded: Decoded): string | null {
  let v = decoded.value;
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const values = Object.values(v as Record<string, unknown>);
    if (values.length !== 1) return stringifyJsonExact(v);
    v = values[0];
  }
  if (v === null || v === undefined) return null;
  return typeof v === 'object' ? stringifyJsonExact(v) : String(v);
}

export interface TailRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: unknown;
  keyFormat: Decoded['format'];
  headers: Record<string, string>;
  value: unknown;
  valueFormat: Decoded['format'];
  schemaId?: number;
}

export async function decodeMessage(
  decoder: RecordDecoder,
  topic: string,
  partition: number,
  m: KafkaMessage,
): Promise<TailRecord> {
  const key = await decoder.decode(topic, m.key ?? null, true);
  const value = await decoder.decode(topic, m.value ?? null, false);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const first = Array.isArray(v) ? v[0] : v;
    headers[k] = first === undefined ? '' : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  const record: TailRecord = {
    topic,
    partition,
    offset: m.offset,
    timestamp: new Date(Number(m.timestamp)).toISOString(),
    key: key.value,
    keyFormat: key.format,
    headers,
    value: value.value,
    valueFormat: value.format,
  };
  if (value.schemaId !== undefined) record.schemaId = value.schemaId;
  return record;
}

/** The human form: a header line, then key, headers and the value (indented JSON). */
export function renderTailRecord(r: TailRecord, style: ReturnType<typeof styleFor>): string {
  const lines = [
    style.bold(`── ${r.topic}[${r.partition}]@${r.offset}`) +
      style.dim(`  ${r.timestamp}  ${r.valueFormat}${r.schemaId !== undefined ? ` (schema id ${r.schemaId})` : ''}`),
    `key:     ${r.keyFormat === 'string' ? String(r.key) : stringifyJsonExact(r.key)}`,
  ];
  // One header a line; a multi-line value (a DLQ stack trace) shows its first line here, in full with -o json.
  for (const [i, [k, v]] of Object.entries(r.headers).entries()) {
    const [first, ...more] = v.split('\n');
    const rest =
      more.length > 0
        ? style.dim(` (… ${more.length} more line${more.length === 1 ? '' : 's'}; -o json shows all)`)
        : '';
    lines.push(`${i === 0 ? 'headers: ' : '         '}${k}=${first}${rest}`);
  }
  const value = r.valueFormat === 'string' ? String(r.value) : stringifyJsonExact(r.value, 2);
  lines.push(`value:   ${value.split('\n').join('\n         ')}`);
  return `${lines.join('\n')}\n`;
}

/** Parses `--from`: an ISO-8601 date/time, epoch milliseconds, or a duration back from now (`10m`, `2h`, `1d`). */
export function parseFromTimestamp(text: string, now = Date.now()): number {
  const t = text.trim();
  const ago = /^(\d+)(ms|s|m|h|d)$/.exec(t);
  if (ago) {
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
    return now - Number(ago[1]) * unit;
  }
  if (/^\d{10,}$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) {
    throw CliError.invalidInput(
      `--from "${text}" is not a timestamp.`,
      'Use an ISO-8601 time (2026-11-22T06:00:00Z), epoch milliseconds, or a duration back from now (15m, 2h, 1d).',
    );
  }
  return ms;
}

export interface TailOptions {
  brokers: string;
  registryUrl?: string | undefined;
  topic: string;
  format: TailFormat;
  follow: boolean;
  /** Where to start: the beginning, a timestamp (ms), or the end (only new records). */
  from: { kind: 'beginning' } | { kind: 'timestamp'; ms: number } | { kind: 'end' };
  max?: number | undefined;
  /** Without --follow: stop when no record arrived for this long although the end was not reached (control records). */
  idleMs?: number;
  onRecord: (r: TailRecord) => void;
  onProgress?: (seen: number, total: number | null) => void;
  signal?: AbortSignal;
}

export interface TailResult {
  records: number;
  byFormat: Record<string, number>;
  partitions: number;
  /** Records between the start and end offsets found at start (null when following). */
  available: number | null;
  reachedEnd: boolean;
}

async function startOffsets(
  admin: Admin,
  topic: string,
  from: TailOptions['from'],
): Promise<Map<number, { start: bigint; end: bigint }>> {
  const ends = await admin.fetchTopicOffsets(topic);
  const out = new Map<number, { start: bigint; end: bigint }>();
  const byTime = from.kind === 'timestamp' ? await admin.fetchTopicOffsetsByTimestamp(topic, from.ms) : [];
  for (const p of ends) {
    const end = BigInt(p.high);
    let start = from.kind === 'beginning' ? BigInt(p.low) : end;
    if (from.kind === 'timestamp') {
      const hit = byTime.find((x) => x.partition === p.partition);
      // -1: no record at or after the timestamp in this partition.
      start = hit && BigInt(hit.offset) >= 0n ? BigInt(hit.offset) : end;
    }
    out.set(p.partition, { start, end });
  }
  return out;
}

/** Reads the topic through a throwaway consumer group (deleted afterwards) and hands every record to onRecord. */
export async function tailTopic(options: TailOptions): Promise<TailResult> {
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: 'erpstream-tail',
    logLevel: 'nothing', // a dead broker is reported once, as the command's error, not as client log lines
    connectionTimeoutMs: 3000,
    retry: { retries: 2, initialRetryTime: 200 },
  });
  const admin = kafka.admin();
  await admin.connect().catch((error: unknown) => {
    throw new CliError(`Cannot reach Kafka at ${options.brokers}: ${(error as Error).message}.`, {
      exitCode: 3,
      hint: 'Start Kafka (`scripts/stack up` for the local stack) or pass --bootstrap-servers / KAFKA_BROKERS.',
      cause: error,
    });
  });
  const groupId = `erpstream-tail-${randomBytes(6).toString('hex')}`;
  let consumer: Consumer | undefined;
  const decoder = new RecordDecoder({ registryUrl: options.registryUrl, format: options.format });
  const result: TailResult = { records: 0, byFormat: {}, partitions: 0, available: null, reachedEnd: false };
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(options.topic)) {
      throw new CliError(`Topic "${options.topic}" does not exist on ${options.brokers}.`, {
        exitCode: 1,
        hint: 'Check the name (topics are case-sensitive); the demo prints the topics it creates.',
      });
    }
    const offsets = await startOffsets(admin, options.topic, options.from);
    result.partitions = offsets.size;
    const pending = new Map([...offsets].filter(([, o]) => o.start < o.end));
    result.available = options.follow ? null : [...pending.values()].reduce((n, o) => n + Number(o.end - o.start), 0);
    if (!options.follow && pending.size === 0) {
      result.reachedEnd = true;
      return result;
    }
    consumer = createConsumer(kafka, { groupId, maxWaitTimeInMs: 250 });
    await consumer.connect();
    await consumer.subscribe({ topic: options.topic, fromBeginning: options.from.kind === 'beginning' });
    let lastActivity = Date.now();
    let failure: unknown;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const limitReached = () => options.max !== undefined && result.records >= options.max;
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (limitReached()) return;
        const range = offsets.get(partition);
        const offset = BigInt(message.offset);
        if (range && offset < range.start) return; // before the seek took effect
        if (!options.follow && range && offset >= range.end) return;
        lastActivity = Date.now();
        try {
          const record = await decodeMessage(decoder, options.topic, partition, message);
          result.records++;
          result.byFormat[record.valueFormat] = (result.byFormat[record.valueFormat] ?? 0) + 1;
          options.onRecord(record);
          options.onProgress?.(result.records, result.available);
        } catch (error) {
          failure = error;
          finish();
          return;
        }
        if (!options.follow && range && offset >= range.end - 1n) pending.delete(partition);
        if (limitReached() || (!options.follow && pending.size === 0)) {
          result.reachedEnd = pending.size === 0;
          finish();
        }
      },
    });
    for (const [partition, o] of offsets)
      consumer.seek({ topic: options.topic, partition, offset: o.start.toString() });
    const idleMs = options.idleMs ?? 5000;
    const timer = setInterval(() => {
      if (options.signal?.aborted) finish();
      // Without --follow the end offsets bound the read; a transaction marker as the last offset is never
      // delivered as a message, so an idle consumer past its last record also ends the read.
      else if (!options.follow && Date.now() - lastActivity > idleMs) finish();
    }, 200);
    options.signal?.addEventListener('abort', () => finish(), { once: true });
    try {
      await finished;
    } finally {
      clearInterval(timer);
    }
    if (failure) throw failure;
    return result;
  } finally {
    await consumer?.disconnect().catch(() => undefined);
    if (consumer) await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

interface TailCliOptions {
  bootstrapServers?: string;
  schemaRegistryUrl?: string;
  format: TailFormat;
  follow?: boolean;
  fromBeginning?: boolean;
  from?: string;
  max?: string;
}

export function registerTailCommand(program: Command, ctx: CliContext): void {
  program
    .command('tail')
    .description('print the records of a topic, decoded (Avro through the schema registry, JSON, text)')
    .argument('<topic>', 'topic to read')
    .option('--bootstrap-servers <list>', 'Kafka brokers (default: KAFKA_BROKERS, else 127.0.0.1:9092)')
    .option('--schema-registry-url <url>', 'schema registry for Avro (default: SCHEMA_REGISTRY_URL)')
    .addOption(new Option('--format <format>', 'how to read keys and values').choices(TAIL_FORMATS).default('auto'))
    .option('-f, --follow', 'keep reading new records until Ctrl-C')
    .option('--from-beginning', 'start at the oldest record (the default without --follow)')
    .option('--from <time>', 'start at the first record at or after a time: ISO-8601, epoch ms, or 15m/2h/1d ago')
    .option('-n, --max <n>', 'stop after n records')
    .addHelpText(
      'after',
      '\nWithout --follow, reads from the beginning (or --from) up to the end offsets found at start, then prints the counts.\n' +
        'With --follow alone, prints only new records. -o json prints one JSON object per line (JSONL).\n',
    )
    .action(async (topic: string, opts: TailCliOptions) => {
      // A stream of records has no YAML form here; printing JSON lines for -o yaml would surprise a script.
      if (ctx.output === 'yaml')
        throw CliError.invalidInput(
          'erpstream tail prints records as text, or with -o json as one JSON object per line; -o yaml is not supported.',
          'Use -o json (JSONL) and convert it if you need YAML.',
        );
      if (opts.fromBeginning && opts.from)
        throw CliError.invalidInput('Give either --from-beginning or --from, not both.', 'Drop one of them.');
      let max: number | undefined;
      if (opts.max !== undefined) {
        max = Number(opts.max);
        if (!Number.isInteger(max) || max < 1)
          throw CliError.invalidInput(`--max "${opts.max}" is not a positive whole number.`, 'e.g. --max 10');
      }
      const from: TailOptions['from'] = opts.from
        ? { kind: 'timestamp', ms: parseFromTimestamp(opts.from) }
        : opts.fromBeginning || !opts.follow
          ? { kind: 'beginning' }
          : { kind: 'end' };
      const brokers = opts.bootstrapServers ?? ctx.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
      const style = styleFor(ctx, 'stdout');
      const progress = ctx.stderr.isTTY === true ? new ProgressLine(ctx.stderr) : undefined;
      let lastDraw = 0;
      let drawn = false;
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.once('SIGINT', onSigint);
      try {
        const result = await tailTopic({
          brokers,
          registryUrl: opts.schemaRegistryUrl ?? ctx.env.SCHEMA_REGISTRY_URL,
          topic,
          format: opts.format,
          follow: opts.follow === true,
          from,
          max,
          signal: abort.signal,
          onRecord: (r) => {
            // Clear the live line so records and progress never share a terminal line.
            if (drawn && ctx.stdout.isTTY === true) {
              ctx.stderr.write('\r\x1b[2K');
              drawn = false;
            }
            ctx.stdout.write(ctx.output === 'table' ? renderTailRecord(r, style) : `${stringifyJsonExact(r)}\n`);
          },
          onProgress: (seen, total) => {
            if (!progress || Date.now() - lastDraw < 100) return;
            const pct = total ? ` (${Math.floor((seen * 100) / total)}%)` : '';
            progress.update(`${seen}${total !== null ? `/${total}` : ''} records${pct}`);
            lastDraw = Date.now();
            drawn = true;
          },
        });
        if (drawn) ctx.stderr.write('\r\x1b[2K');
        const formats = Object.entries(result.byFormat)
          .map(([f, n]) => `${n} ${f}`)
          .join(', ');
        const summary =
          `${result.records} record${result.records === 1 ? '' : 's'}${formats ? ` (${formats})` : ''} from ${topic}` +
          ` (${result.partitions} partition${result.partitions === 1 ? '' : 's'})` +
          (result.available !== null && result.records < result.available
            ? `; ${result.available - result.records} more available`
            : '') +
          '\n';
        // Keep JSONL clean: counts go to stderr unless the output is for humans.
        (ctx.output === 'table' ? ctx.stdout : ctx.stderr).write(ctx.output === 'table' ? style.dim(summary) : summary);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}
