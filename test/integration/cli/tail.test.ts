import { PassThrough } from 'node:stream';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decimal, DecimalType, SchemaBuilder, Schemas, Struct } from '../../../runtime/api/index.js';
import { AvroConverter } from '../../../runtime/converters/index.js';
import { type Admin, type Producer, createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { registerTailCommand } from '../../../cli/commands/tail.js';
import type { CliContext } from '../../../cli/context.js';
import { createProgram, reportError } from '../../../cli/program.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/**
 * `erpstream tail` as users run it, against the real broker and schema registry: Avro through the registry,
 * JSON with and without Connect's envelope, tombstones, headers, counts, --max, --from and --follow.
 */

const BROKERS = requireEnv('KAFKA_BROKERS');
const REGISTRY = requireEnv('SCHEMA_REGISTRY_URL');
const suffix = uniqueSuffix();
const topic = `tail-test-${suffix}`;
const emptyTopic = `tail-empty-${suffix}`;
const kafka = createKafka({ brokers: BROKERS, clientId: 'tail-test', logLevel: 'error' });
let admin: Admin;
let producer: Producer;
const T0 = Date.parse('2026-01-01T00:00:00Z');
const T1 = Date.parse('2026-06-01T00:00:00Z');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `erpstream tail …` in this process, with the CLI's own error reporting and exit codes. */
async function tail(...args: string[]): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx: CliContext = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: { NO_COLOR: '1', KAFKA_BROKERS: BROKERS, SCHEMA_REGISTRY_URL: REGISTRY },
    exitCode: 0,
    output: 'table',
    noColor: true,
  };
  const program = await createProgram(ctx);
  // Until cli/program.ts lists it.
  if (!program.commands.some((c) => c.name() === 'tail')) registerTailCommand(program, ctx);
  let code: number;
  try {
    await program.parseAsync(['tail', ...args], { from: 'user' });
    code = ctx.exitCode;
  } catch (error) {
    code = error instanceof CommanderError ? 2 : reportError(error, ctx);
  }
  return { code, stdout: out, stderr: err };
}

const shipmentSchema = SchemaBuilder.struct()
  .name('erp.shipment.Value')
  .field('SHPMT_NO', Schemas.STRING)
  .field('NET_AMT', DecimalType.schema(2))
  .field('WGT_KG', Schemas.OPTIONAL_INT64)
  .build();

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [
    { topic, numPartitions: 2 },
    { topic: emptyTopic, numPartitions: 1 },
  ]);
  producer = createProducer(kafka);
  await producer.connect();
  const value = new AvroConverter();
  value.configure({ 'schema.registry.url': REGISTRY }, false);
  const key = new AvroConverter();
  key.configure({ 'schema.registry.url': REGISTRY }, true);
  const avro = async (no: string, amount: string, partition: number, timestamp: number) => ({
    key: await key.fromConnectData(topic, [], Schemas.STRING, no),
    value: await value.fromConnectData(
      topic,
      [],
      shipmentSchema,
      new Struct(shipmentSchema)
        .put('SHPMT_NO', no)
        .put('NET_AMT', Decimal.parse(amount))
        .put('WGT_KG', 9007199254740993n),
    ),
    headers: { 'erpstream.version': '41' },
    partition,
    timestamp: String(timestamp),
  });
  await producer.send({
    topic,
    messages: [
      await avro('S1', '4711.10', 0, T0),
      await avro('S2', '0.05', 1, T0),
      await avro('S3', '12345678901234567890.99', 0, T1),
      {
        key: Buffer.from('doc-1'),
        value: Buffer.from(
          '{"schema":{"type":"struct","fields":[{"field":"id","type":"int64"}]},"payload":{"id":12345678901234567890}}',
        ),
        partition: 1,
        timestamp: String(T1),
      },
      { key: Buffer.from('doc-2'), value: Buffer.from('{"plain":true,"n":1.50}'), partition: 0, timestamp: String(T1) },
      { key: Buffer.from('doc-2'), value: null, partition: 0, timestamp: String(T1) },
    ],
  });
});

afterAll(async () => {
  await producer?.disconnect();
  await admin?.deleteTopics({ topics: [topic, emptyTopic] }).catch(() => undefined);
  for (const s of [`${topic}-key`, `${topic}-value`]) {
    await fetch(`${REGISTRY}/subjects/${s}`, { method: 'DELETE' }).catch(() => undefined);
    await fetch(`${REGISTRY}/subjects/${s}?permanent=true`, { method: 'DELETE' }).catch(() => undefined);
  }
  await admin?.disconnect();
});

describe('erpstream tail', () => {
  it('prints every record decoded (Avro through the registry, JSON, tombstones) and the counts', async () => {
    const run = await tail(topic);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`── ${topic}\\[0\\]@0  2026-01-01T00:00:00.000Z  avro \\(schema id \\d+\\)`));
    expect(run.stdout).toContain('key:     "S1"');
    expect(run.stdout).toContain('headers: erpstream.version=41');
    // Decimals and int64 stay exact.
    expect(run.stdout).toContain('"NET_AMT": 4711.10');
    expect(run.stdout).toContain('"NET_AMT": 12345678901234567890.99');
    expect(run.stdout).toContain('"WGT_KG": 9007199254740993');
    // Connect's JSON envelope: the payload is shown, exactly.
    expect(run.stdout).toContain('"id": 12345678901234567890');
    expect(run.stdout).toContain('"n": 1.50');
    expect(run.stdout).toContain('key:     doc-2\nvalue:   null');
    expect(run.stdout).toContain(`6 records (3 avro, 2 json, 1 null) from ${topic} (2 partitions)`);
  });

  it('-o json prints one JSON object per record (JSONL) and the counts on stderr', async () => {
    const run = await tail(topic, '-o', 'json');
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const s1 = records.find((r) => r.key === 'S1')!;
    expect(s1).toMatchObject({
      topic,
      partition: 0,
      offset: '0',
      timestamp: '2026-01-01T00:00:00.000Z',
      keyFormat: 'avro',
      valueFormat: 'avro',
      headers: { 'erpstream.version': '41' },
      value: { SHPMT_NO: 'S1', NET_AMT: 4711.1 },
    });
    expect(lines.find((l) => l.includes('"S1"'))).toContain('"NET_AMT":4711.10');
    expect(records.filter((r) => r.value === null)).toHaveLength(1);
    expect(run.stderr).toContain(`6 records (3 avro, 2 json, 1 null) from ${topic}`);
  });

  it('--max stops early and says how many more there are; --from starts at a time', async () => {
    const max = await tail(topic, '--max', '2', '-o', 'json');
    expect(max.code, max.stderr).toBe(0);
    expect(max.stdout.trim().split('\n')).toHaveLength(2);
    expect(max.stderr).toContain('2 records');
    expect(max.stderr).toContain('4 more available');

    const from = await tail(topic, '--from', '2026-03-01T00:00:00Z', '-o', 'json');
    expect(from.code, from.stderr).toBe(0);
    const keys = from.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { key: string }).key)
      .sort();
    expect(keys).toEqual(['S3', 'doc-1', 'doc-2', 'doc-2']);
  });

  it('--follow prints records produced after it started, until --max', async () => {
    let exited = false;
    const follow = tail(topic, '--follow', '--max', '2', '-o', 'json').finally(() => (exited = true));
    const deadline = Date.now() + 60_000;
    let n = 0;
    // The consumer needs a moment to join; keep producing until it has seen two new records.
    while (!exited && Date.now() < deadline) {
      await producer.send({
        topic,
        messages: [{ key: Buffer.from(`new-${n++}`), value: Buffer.from('{"fresh":true}'), partition: 0 }],
      });
      await new Promise((r) => setTimeout(r, 500));
    }
    const run = await follow;
    expect(run.code, run.stderr).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; value: unknown });
    expect(records).toHaveLength(2);
    for (const r of records) {
      expect(r.key).toMatch(/^new-\d+$/);
      expect(r.value).toEqual({ fresh: true });
    }
  }, 90_000);

  it('an empty topic prints zero counts; an unknown topic exits 1 and says so', async () => {
    const empty = await tail(emptyTopic);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toContain(`0 records from ${emptyTopic} (1 partition)`);
    const unknown = await tail(`no-such-topic-${suffix}`);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(`Topic "no-such-topic-${suffix}" does not exist on ${BROKERS}.`);
  });

  it('rejects a --from that is not a time with exit code 2', async () => {
    const run = await tail(topic, '--from', 'yesterday-ish');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--from "yesterday-ish" is not a timestamp.');
  });
});
