import { describe, expect, it } from 'vitest';
import {
  DataError,
  DebeziumTypes,
  type Logger,
  SchemaBuilder,
  Schemas,
  Struct,
  silentLogger,
} from '../../../../runtime/api/index.js';
import { eventRouterPlugin as plugin, javaReplacementToJs } from '../../../../transforms/debezium/event-router.js';
import { isLoggerAware } from '../../../../transforms/debezium/plugin-logger.js';
import { JsonLogger, LogLevelRegistry } from '../../../../runtime/logging/index.js';
import { configured, envelope, envelopeSchema, headerValue, record } from './fixtures.js';

const outboxSchema = SchemaBuilder.struct()
  .name('erp.public.outbox.Value')
  .optional()
  .field('id', DebeziumTypes.uuid().build())
  .field('aggregatetype', Schemas.STRING)
  .field('aggregateid', Schemas.STRING)
  .field('type', Schemas.STRING)
  .field('payload', Schemas.OPTIONAL_STRING)
  .field('tenant', Schemas.OPTIONAL_STRING)
  .field('created', DebeziumTypes.microTimestamp().optional().build())
  .build();
const envSchema = envelopeSchema(outboxSchema, 'erp.public.outbox.Envelope');

function outboxRow(payload: string | null, extra: { type?: string; tenant?: string } = {}): Struct {
  return new Struct(outboxSchema)
    .put('id', '7b0b6d4e-0000-4000-8000-000000000001')
    .put('aggregatetype', 'Order')
    .put('aggregateid', 'order-17')
    .put('type', extra.type ?? 'OrderPlaced')
    .put('payload', payload)
    .put('tenant', extra.tenant ?? 'acme')
    .put('created', 1_700_000_123_456_789n);
}

const change = (op: string, after: Struct | null, before: Struct | null = null) =>
  record({
    topic: 'erp.public.outbox',
    valueSchema: envSchema,
    value: envelope(envSchema, op, before, after, 'outbox'),
  });

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (msg: string) => void lines.push(`${level}: ${msg}`);
  return { ...silentLogger, warn: push('warn'), error: push('error'), lines, child: () => silentLogger };
}

describe('EventRouter', () => {
  it('routes an inserted outbox row: topic from aggregatetype, key aggregateid, id header, payload value', async () => {
    const t = await configured(plugin);
    const out = t.apply(change('c', outboxRow('{"total":12}')))!;
    expect(out.topic).toBe('outbox.event.Order');
    expect(out.key).toBe('order-17');
    expect(out.keySchema).toBe(Schemas.STRING);
    expect(out.value).toBe('{"total":12}');
    expect(out.valueSchema).toBe(Schemas.OPTIONAL_STRING);
    expect(headerValue(out, 'id')).toBe('7b0b6d4e-0000-4000-8000-000000000001');
    expect(out.headers.find((h) => h.key === 'id')!.schema!.name).toBe('io.debezium.data.Uuid');
    expect(out.timestamp).toBe(1_700_000_000_500);
  });

  it('expands a JSON payload into a struct with an inferred schema, keeping int64 exact', async () => {
    const t = await configured(plugin, { 'table.expand.json.payload': 'true' });
    const json =
      '{"orderId":9007199254740993,"qty":3,"price":12.5,"lines":[{"sku":"A"},{"sku":"B","n":2}],"note":null}';
    const out = t.apply(change('c', outboxRow(json)))!;
    const v = out.value as Struct;
    expect(v.get('orderId')).toBe(9007199254740993n);
    expect(out.valueSchema!.fields!.map((f) => [f.name, f.schema.type])).toEqual([
      ['orderId', 'int64'],
      ['qty', 'int32'],
      ['price', 'float64'],
      ['lines', 'array'],
    ]);
    // Debezium 3.2 names inferred structs by their path from the payload column.
    expect(out.valueSchema!.name).toBe('payload');
    const lines = v.get('lines') as Struct[];
    expect(lines[0]!.schema.name).toBe('payload.lines');
    expect(lines[1]!.get('n')).toBe(2);
    expect(lines[0]!.schema.fields!.map((f) => f.name)).toEqual(['sku', 'n']);
  });

  it('expands a payload of many keys in time, and keeps one that would explode in memory as a string (poison)', async () => {
    const t = await configured(plugin, { 'table.expand.json.payload': 'true' });
    const log = recordingLogger();
    if (isLoggerAware(t)) t.setLogger(log);
    // 30,000 keys: a scan per field made it n² (~2 s; 100,000 keys: 20 s).
    const wide = `{${Array.from({ length: 30_000 }, (_, i) => `"f${i}":${i}`).join(',')}}`;
    let start = performance.now();
    const out = t.apply(change('c', outboxRow(wide)))!;
    expect(performance.now() - start).toBeLessThan(500);
    expect((out.value as Struct).get('f29999')).toBe(29999);
    // 3,000 objects of one distinct key each: every element struct gets all 3,000 fields, 9,000,000 in all from 36 KB
    // (20,000 of them took 3.4 GB and a minute). Refused, so the payload stays a string, as for any payload that
    // cannot be expanded.
    const sparse = `{"lines":[${Array.from({ length: 3000 }, (_, i) => `{"k${i}":1}`).join(',')}]}`;
    start = performance.now();
    const kept = t.apply(change('c', outboxRow(sparse)))!;
    expect(performance.now() - start).toBeLessThan(500);
    expect(kept.value).toBe(sparse);
    expect(log.lines.join()).toMatch(/JSON expansion failed/);
  });

  it('keeps an unparseable JSON payload as a string and warns', async () => {
    const t = await configured(plugin, { 'table.expand.json.payload': 'true' });
    const log = recordingLogger();
    expect(isLoggerAware(t)).toBe(true);
    if (isLoggerAware(t)) t.setLogger(log);
    const out = t.apply(change('c', outboxRow('{"broken":')))!;
    expect(out.value).toBe('{"broken":');
    expect(log.lines.join()).toMatch(/JSON expansion failed/);
  });

  it('warns about a payload it cannot expand in a line of bounded size, however large the key and the payload (poison)', async () => {
    const t = await configured(plugin, { 'table.expand.json.payload': 'true' });
    const lines: string[] = [];
    const log = new JsonLogger({ name: 'EventRouter', registry: new LogLevelRegistry(), sink: (l) => lines.push(l) });
    if (isLoggerAware(t)) t.setLogger(log);
    // A 5 MB key, and a payload whose expansion error names a 5 MB field: the warning held both whole (10 MB).
    const big = 'x'.repeat(5_000_000);
    const payload = `{"${big}":[1,"one"]}`;
    const out = t.apply({ ...change('c', outboxRow(payload)), key: big })!;
    expect(out.value).toBe(payload);
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { msg: string; key: string; error: string };
    expect(line.msg).toBe('JSON expansion failed; payload kept as a string');
    expect(line.key).toMatch(/^"xxx+\.\.\.$/);
    expect(line.error).toMatch(/^Field payload\.xxx+… \(\d+ more characters\)$/);
    expect(lines[0]!.length).toBeLessThan(2000);
  });

  it('places additional columns in headers and next to the payload, naming the value schema like Debezium', async () => {
    const t = await configured(plugin, {
      'table.fields.additional.placement': 'type:header:eventType,tenant:envelope:tenantId',
    });
    const out = t.apply(change('c', outboxRow('{}')))!;
    expect(headerValue(out, 'eventType')).toBe('OrderPlaced');
    const v = out.value as Struct;
    expect(v.get('payload')).toBe('{}');
    expect(v.get('tenantId')).toBe('acme');
    expect(out.valueSchema!.name).toBe('erp.public.outbox.Order.Value');
    const again = t.apply(change('c', outboxRow('{"x":1}')))!;
    expect(again.valueSchema).toBe(out.valueSchema);
  });

  it('drops deletes; updates are dropped with a warning, an error, or fail the task', async () => {
    const warn = await configured(plugin);
    const log = recordingLogger();
    if (isLoggerAware(warn)) warn.setLogger(log);
    expect(warn.apply(change('d', null, outboxRow('{}')))).toBeNull();
    expect(warn.apply(change('u', outboxRow('{}'), outboxRow('{}')))).toBeNull();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^warn: Unexpected update of an outbox row/);

    const error = await configured(plugin, { 'table.op.invalid.behavior': 'error' });
    const elog = recordingLogger();
    if (isLoggerAware(error)) error.setLogger(elog);
    error.apply(change('u', outboxRow('{}'), outboxRow('{}')));
    expect(elog.lines[0]).toMatch(/^error:/);

    const fatal = await configured(plugin, { 'table.op.invalid.behavior': 'fatal' });
    expect(() => fatal.apply(change('u', outboxRow('{}'), outboxRow('{}')))).toThrow(/Unexpected update/);
  });

  it('ignores tombstones and passes non-outbox records through', async () => {
    const t = await configured(plugin);
    expect(t.apply(record({ key: 'x' }))).toBeNull();
    const hb = record({ topic: '__debezium-heartbeat.erp', value: { ts_ms: 1 } });
    expect(t.apply(hb)).toBe(hb);
  });

  it('turns an empty payload into a tombstone for the aggregate when asked', async () => {
    const t = await configured(plugin, { 'route.tombstone.on.empty.payload': 'true' });
    const out = t.apply(change('c', outboxRow(null)))!;
    expect(out.value).toBeNull();
    expect(out.valueSchema).toBeNull();
    expect(out.key).toBe('order-17');
    expect(out.topic).toBe('outbox.event.Order');
  });

  it('routes already-unwrapped schemaless rows with a custom regex, replacement and timestamp column', async () => {
    const t = await configured(plugin, {
      'route.topic.regex': '(?<routedByValue>[A-Za-z]+)-v(\\d)',
      'route.topic.replacement': 'events.${routedByValue}.v$2',
      'table.field.event.timestamp': 'created',
      'table.expand.json.payload': 'true',
    });
    const out = t.apply(
      record({
        value: {
          id: 'e1',
          aggregatetype: 'Invoice-v2',
          aggregateid: 'inv-1',
          type: 'InvoiceIssued',
          payload: '{"amount":"12.30"}',
          created: 1_700_000_000_001,
        },
      }),
    )!;
    expect(out.topic).toBe('events.Invoice.v2');
    expect(out.value).toEqual({ amount: '12.30' });
    expect(out.keySchema).toBeNull();
    expect(out.timestamp).toBe(1_700_000_000_001);
  });

  it('takes the Kafka timestamp from a MicroTimestamp column', async () => {
    const t = await configured(plugin, { 'table.field.event.timestamp': 'created' });
    expect(t.apply(change('c', outboxRow('{}')))!.timestamp).toBe(1_700_000_123_456);
  });

  it('names the missing column when the payload column is absent', async () => {
    const t = await configured(plugin, { 'table.field.event.payload': 'body' });
    expect(() => t.apply(change('c', outboxRow('{}')))).toThrow(DataError);
    expect(() => t.apply(change('c', outboxRow('{}')))).toThrow(/payload column "body"/);
  });

  it('translates Java replacement syntax', () => {
    expect(javaReplacementToJs('outbox.event.${routedByValue}')).toBe('outbox.event.$<routedByValue>');
    expect(javaReplacementToJs('a$1\\$b')).toBe('a$1$$b');
  });
});
