import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type SourceRecord, silentLogger } from '../../../../runtime/api/index.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';
import { debeziumTransformPlugins } from '../../../../transforms/debezium/index.js';
import { isLoggerAware } from '../../../../transforms/debezium/plugin-logger.js';

/**
 * Differential test: each case runs through Debezium 3.2's own ExtractNewRecordState / EventRouter (the
 * debezium-core jar in the stack's Connect plugin path, driven by DebeziumSmtHarness.java on the Kafka
 * Connect 3.9 jars) and through ours, both fed and serialized by a JsonConverter. Topic, key, value,
 * timestamp and headers must agree; so must dropping a record.
 */

const TOPIC = 'erp.public.shipment';
const TIMESTAMP = 1_700_000_000_900;
const UNWRAP = 'io.debezium.transforms.ExtractNewRecordState';
const ROUTER = 'io.debezium.transforms.outbox.EventRouter';

type JsonSchema = Record<string, unknown>;
interface Case {
  name: string;
  smt: string;
  config: Record<string, string>;
  key?: string | null;
  value: string | null;
  headers?: Record<string, string>;
}
interface Outcome {
  dropped?: boolean;
  topic?: string;
  key?: string | null;
  value?: string | null;
  timestamp?: number;
  headers?: Array<[string, string]>;
  error?: string;
  message?: string;
}

const p = (type: string, extra: JsonSchema = {}): JsonSchema => ({ type, optional: false, ...extra });
const opt = (s: JsonSchema): JsonSchema => ({ ...s, optional: true });
const struct = (fields: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema => ({
  type: 'struct',
  fields: Object.entries(fields).map(([field, s]) => ({ ...s, field })),
  optional: false,
  ...extra,
});
const env = (schema: JsonSchema | null, payload: unknown): string => JSON.stringify({ schema, payload });

const sourceSchema = struct(
  {
    version: p('string'),
    connector: p('string'),
    name: p('string'),
    ts_ms: p('int64'),
    db: p('string'),
    schema: p('string'),
    table: p('string'),
    lsn: opt(p('int64')),
  },
  { name: 'io.debezium.connector.postgresql.Source' },
);
const source = (table: string) => ({
  version: '3.2.3.Final',
  connector: 'postgresql',
  name: 'erp',
  ts_ms: 1_700_000_000_000,
  db: 'erp',
  schema: 'public',
  table,
  lsn: 24023128,
});
const envelopeSchema = (row: JsonSchema, name: string): JsonSchema =>
  struct(
    { before: opt(row), after: opt(row), source: sourceSchema, op: p('string'), ts_ms: opt(p('int64')) },
    { name, version: 1 },
  );

const shipmentRow = struct(
  { id: p('int32'), status: opt(p('string')), dest: opt(p('string')), amount: opt(p('double')) },
  { name: 'erp.public.shipment.Value' },
);
const shipmentEnvelope = envelopeSchema(shipmentRow, 'erp.public.shipment.Envelope');
const shipment = (op: string, before: object | null, after: object | null) =>
  env(shipmentEnvelope, { before, after, source: source('shipment'), op, ts_ms: 1_700_000_000_500 });
const shipmentKey = (id: number) => env(struct({ id: p('int32') }, { name: 'erp.public.shipment.Key' }), { id });

const created = shipment('c', null, { id: 1, status: 'NEW', dest: 'orders.eu', amount: 12.5 });
const updated = shipment(
  'u',
  { id: 1, status: 'NEW', dest: null, amount: 1 },
  { id: 1, status: 'SENT', dest: 'orders.eu', amount: 2 },
);
const deleted = shipment('d', { id: 1, status: 'SENT', dest: 'orders.us', amount: 2 }, null);

const outboxRow = struct(
  {
    id: p('string', { name: 'io.debezium.data.Uuid', version: 1 }),
    aggregatetype: p('string'),
    aggregateid: p('string'),
    type: p('string'),
    payload: opt(p('string')),
    tenant: opt(p('string')),
  },
  { name: 'erp.public.outbox.Value' },
);
const outboxEnvelope = envelopeSchema(outboxRow, 'erp.public.outbox.Envelope');
const outbox = (op: string, payload: string | null, aggregatetype = 'Order') => {
  const row = {
    id: '7b0b6d4e-0000-4000-8000-000000000001',
    aggregatetype,
    aggregateid: 'order-17',
    type: 'OrderPlaced',
    payload,
    tenant: 'acme',
  };
  return env(outboxEnvelope, {
    before: op === 'c' ? null : row,
    after: op === 'd' ? null : row,
    source: source('outbox'),
    op,
    ts_ms: 1_700_000_000_500,
  });
};

const CASES: Case[] = [
  { name: 'unwrap create', smt: UNWRAP, config: {}, key: shipmentKey(1), value: created },
  {
    name: 'unwrap update with add.fields',
    smt: UNWRAP,
    config: { 'add.fields': 'op,table,lsn,source.ts_ms,ts_ms:EVENT_TS' },
    key: shipmentKey(1),
    value: updated,
  },
  { name: 'unwrap delete, default mode', smt: UNWRAP, config: {}, key: shipmentKey(1), value: deleted },
  { name: 'unwrap tombstone, default mode', smt: UNWRAP, config: {}, key: shipmentKey(1), value: null },
  {
    name: 'unwrap delete, drop',
    smt: UNWRAP,
    config: { 'delete.tombstone.handling.mode': 'drop' },
    key: shipmentKey(1),
    value: deleted,
  },
  {
    name: 'unwrap delete, rewrite with add.fields',
    smt: UNWRAP,
    config: { 'delete.tombstone.handling.mode': 'rewrite', 'add.fields': 'op,table' },
    key: shipmentKey(1),
    value: deleted,
  },
  {
    name: 'unwrap update, rewrite with add.fields',
    smt: UNWRAP,
    config: { 'delete.tombstone.handling.mode': 'rewrite', 'add.fields': 'op,source.ts_ms' },
    key: shipmentKey(1),
    value: updated,
  },
  {
    name: 'unwrap tombstone, rewrite-with-tombstone and op header',
    smt: UNWRAP,
    config: { 'delete.tombstone.handling.mode': 'rewrite-with-tombstone', 'add.headers': 'op' },
    key: shipmentKey(1),
    value: null,
  },
  {
    name: 'unwrap delete, delete-to-tombstone',
    smt: UNWRAP,
    config: { 'delete.tombstone.handling.mode': 'delete-to-tombstone' },
    key: shipmentKey(1),
    value: deleted,
  },
  {
    name: 'unwrap headers',
    smt: UNWRAP,
    config: { 'add.headers': 'op,source.ts_ms,table', 'add.headers.prefix': 'dbz.' },
    key: shipmentKey(1),
    value: updated,
    headers: { existing: 'kept' },
  },
  {
    name: 'unwrap route.by.field',
    smt: UNWRAP,
    config: { 'route.by.field': 'dest' },
    key: shipmentKey(1),
    value: created,
  },
  {
    name: 'unwrap passes a heartbeat through',
    smt: UNWRAP,
    config: {},
    value: env(struct({ ts_ms: p('int64') }, { name: 'io.debezium.connector.common.Heartbeat' }), { ts_ms: 5 }),
  },
  { name: 'router insert', smt: ROUTER, config: {}, value: outbox('c', '{"total":12}') },
  {
    name: 'router expands JSON payload',
    smt: ROUTER,
    config: { 'table.expand.json.payload': 'true' },
    value: outbox(
      'c',
      '{"orderId":9007199254740993,"qty":3,"price":12.5,"ok":true,"customer":{"name":"Ada","address":{"city":"Delft"}},"tags":["a",null,"b"],"lines":[{"sku":"A"},{"sku":"B","n":2}],"none":[],"note":null}',
    ),
  },
  {
    name: 'router keeps a payload with a mixed-type array as a string',
    smt: ROUTER,
    config: { 'table.expand.json.payload': 'true' },
    value: outbox('c', '{"n":[1,2.5]}'),
  },
  {
    name: 'router additional header and envelope fields',
    smt: ROUTER,
    config: { 'table.fields.additional.placement': 'type:header:eventType,tenant:envelope:tenantId' },
    value: outbox('c', '{}'),
  },
  { name: 'router drops deletes', smt: ROUTER, config: {}, value: outbox('d', '{}') },
  { name: 'router drops updates (warn)', smt: ROUTER, config: {}, value: outbox('u', '{}') },
  {
    name: 'router tombstone on empty payload',
    smt: ROUTER,
    config: { 'route.tombstone.on.empty.payload': 'true' },
    value: outbox('c', null),
  },
  {
    name: 'router custom regex and replacement',
    smt: ROUTER,
    config: {
      'route.topic.regex': '(?<routedByValue>[A-Za-z]+)-v(\\d)',
      'route.topic.replacement': 'events.${routedByValue}.v$2',
    },
    value: outbox('c', '{}', 'Invoice-v2'),
  },
];

function debeziumJars(stackDir: string): string[] {
  const plugins = join(stackDir, 'connect-plugins');
  const dir = existsSync(plugins)
    ? readdirSync(plugins)
        .map((d) => join(plugins, d))
        .filter((d) => statSync(d).isDirectory())
        // debezium-core up to 3.5; from 3.6 its classes are in debezium-connector-common
        .find((d) => readdirSync(d).some((f) => /^debezium-(core|connector-common)-.*\.jar$/.test(f)))
    : undefined;
  if (!dir) throw new Error(`No debezium-core jar under ${plugins}: the stack caches it (scripts/stack up)`);
  return readdirSync(dir)
    .filter((f) => /^debezium-.*\.jar$/.test(f))
    .map((f) => join(dir, f));
}

function runDebezium(cases: Case[]): Outcome[] {
  const stackDir = process.env.ERPSTREAM_STACK_DIR?.trim();
  if (!stackDir) throw new Error('ERPSTREAM_STACK_DIR is not set: eval "$(scripts/stack env)" after scripts/stack up');
  const libs = join(stackDir, 'lib', 'connect');
  const classpath = [`${libs}/*`, ...debeziumJars(stackDir)].join(':');
  const harness = join(dirname(fileURLToPath(import.meta.url)), 'DebeziumSmtHarness.java');
  const run = spawnSync('java', ['-cp', classpath, harness], {
    input: JSON.stringify(cases.map((c) => ({ ...c, key: c.key ?? null, schemas: true, headers: c.headers ?? {} }))),
    encoding: 'utf8',
    timeout: 90_000,
  });
  if (run.status !== 0) throw new Error(`Debezium harness failed (${run.status}): ${run.stderr}`);
  const line = run.stdout.split('\n').find((l) => l.startsWith('['));
  if (!line) throw new Error(`Debezium harness printed no result: ${run.stdout} ${run.stderr}`);
  return JSON.parse(line) as Outcome[];
}

async function runOurs(c: Case): Promise<Outcome> {
  const keyConverter = new JsonConverter();
  keyConverter.configure({ 'schemas.enable': 'true' }, true);
  const valueConverter = new JsonConverter();
  valueConverter.configure({ 'schemas.enable': 'true' }, false);
  try {
    const bytes = (s: string | null | undefined) => (s === null || s === undefined ? null : Buffer.from(s, 'utf8'));
    const key = await keyConverter.toConnectData(TOPIC, [], bytes(c.key));
    const value = await valueConverter.toConnectData(TOPIC, [], bytes(c.value));
    const record: SourceRecord = {
      topic: TOPIC,
      kafkaPartition: null,
      keySchema: key.schema,
      key: key.value,
      valueSchema: value.schema,
      value: value.value,
      timestamp: TIMESTAMP,
      headers: Object.entries(c.headers ?? {}).map(([k, v]) => ({ key: k, value: v, schema: null })),
      sourcePartition: {},
      sourceOffset: {},
    };
    const plugin = debeziumTransformPlugins.find((x) => x.className === c.smt)!;
    const smt = plugin.create();
    if (isLoggerAware(smt)) smt.setLogger(silentLogger);
    await smt.configure(c.config);
    const out = smt.apply(record);
    if (out === null) return { dropped: true };
    const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));
    return {
      topic: out.topic,
      key: text(await keyConverter.fromConnectData(out.topic, [], out.keySchema, out.key)),
      value: text(await valueConverter.fromConnectData(out.topic, [], out.valueSchema, out.value)),
      ...(out.timestamp === null ? {} : { timestamp: out.timestamp }),
      headers: out.headers.map((h) => [h.key, String(h.value)] as [string, string]),
    };
  } catch (e) {
    return { error: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const parse = (s: string | null | undefined): unknown => (s === null || s === undefined ? null : JSON.parse(s));

describe("Debezium SMTs against the stack's Debezium (3.2 with Connect 3.9, 3.6 with 4.x)", () => {
  let debezium: Outcome[];
  beforeAll(() => {
    debezium = runDebezium(CASES);
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('%s', async (_name, i) => {
    const theirs = debezium[i]!;
    const ours = await runOurs(CASES[i]!);
    expect(theirs.error, `Debezium failed: ${theirs.message}`).toBeUndefined();
    expect(ours.error, `we failed: ${ours.message}`).toBeUndefined();
    expect(ours.dropped ?? false).toBe(theirs.dropped ?? false);
    if (theirs.dropped) return;
    expect(ours.topic).toBe(theirs.topic);
    expect(parse(ours.key)).toEqual(parse(theirs.key));
    expect(parse(ours.value)).toEqual(parse(theirs.value));
    expect(ours.timestamp).toBe(theirs.timestamp);
    expect(ours.headers).toEqual(theirs.headers);
  });
});
