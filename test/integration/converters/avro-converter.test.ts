import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataError,
  Decimal,
  DecimalType,
  RetriableError,
  SchemaBuilder,
  SchemaError,
  Schemas,
  Struct,
  TimestampType,
  schemaEquals,
  valuesEqual,
} from '../../../runtime/api/index.js';
import { AvroConverter } from '../../../runtime/converters/index.js';
import { schemaAndValueArb, structSpecArb } from '../../unit/runtime/converters/arbitraries.js';
import { requireEnv, uniqueSuffix } from '../env.js';

const REGISTRY = requireEnv('SCHEMA_REGISTRY_URL').replace(/\/$/, '');
const created = new Set<string>();

function converter(props: Record<string, string> = {}, isKey = false, url = REGISTRY): AvroConverter {
  const c = new AvroConverter();
  c.configure({ 'schema.registry.url': url, ...props }, isKey);
  return c;
}

async function registry(method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${REGISTRY}${path}`, {
    method,
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

async function subjects(): Promise<string[]> {
  return (await registry('GET', '/subjects')).json as string[];
}

function track(subject: string): string {
  created.add(subject);
  return subject;
}

afterAll(async () => {
  for (const s of created) {
    const enc = encodeURIComponent(s);
    await registry('DELETE', `/subjects/${enc}`);
    await registry('DELETE', `/subjects/${enc}?permanent=true`);
  }
});

const order = (suffix: string) =>
  SchemaBuilder.struct()
    .name(`erp.it.o${suffix}.Order`)
    .field('id', Schemas.INT64)
    .field('name', Schemas.STRING)
    .build();

describe('AvroConverter against the real registry', () => {
  it('round-trips random struct schemas and values; a fresh converter decodes by schema id', async () => {
    const topic = `it_avro_prop_${uniqueSuffix()}`;
    track(`${topic}-value`);
    const writer = converter();
    await fc.assert(
      fc.asyncProperty(schemaAndValueArb(structSpecArb), async ({ schema, value }) => {
        const bytes = await writer.fromConnectData(topic, [], schema, value);
        const back = await converter().toConnectData(topic, [], bytes);
        expect(schemaEquals(back.schema, schema)).toBe(true);
        expect(valuesEqual(back.value, value)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('reads synchronously once a schema id is known: undefined before, then the same data as the async read', async () => {
    const topic = `it_avro_sync_${uniqueSuffix()}`;
    track(`${topic}-value`);
    const schema = order(uniqueSuffix());
    const value = new Struct(schema).put('id', 9007199254740993n).put('name', 'Grüße');
    const bytes = await converter().fromConnectData(topic, [], schema, value);
    const reader = converter();
    expect(reader.toConnectDataSync(topic, [], bytes)).toBeUndefined(); // the writer schema is not fetched yet
    const viaAsync = await reader.toConnectData(topic, [], bytes);
    const viaSync = reader.toConnectDataSync(topic, [], bytes)!;
    expect(schemaEquals(viaSync.schema, viaAsync.schema)).toBe(true);
    expect(valuesEqual(viaSync.value, value)).toBe(true);
    expect(reader.toConnectDataSync(topic, [], null)).toEqual({ schema: null, value: null });
    expect(() => reader.toConnectDataSync(topic, [], Buffer.from('{"a":1}'))).toThrow(DataError);
  });

  it('writes the Confluent wire format: magic 0, big-endian schema id, Avro binary', async () => {
    const suffix = uniqueSuffix();
    const topic = `it_avro_wire_${suffix}`;
    const subject = track(`${topic}-value`);
    const s = order(suffix);
    const bytes = (await converter().fromConnectData(topic, [], s, new Struct(s).put('id', 1n).put('name', 'a')))!;
    const latest = (await registry('GET', `/subjects/${subject}/versions/latest`)).json as {
      id: number;
      schema: string;
    };
    expect(bytes[0]).toBe(0);
    expect(bytes.readInt32BE(1)).toBe(latest.id);
    // long 1 → zigzag varint 0x02; string "a" → length 1 (0x02) then 0x61.
    expect([...bytes.subarray(5)]).toEqual([0x02, 0x02, 0x61]);
    expect(JSON.parse(latest.schema)).toMatchObject({ type: 'record', name: 'Order', 'connect.name': s.name });
  });

  it('keeps int64, decimals and timestamps exact through the registry', async () => {
    const topic = `it_avro_exact_${uniqueSuffix()}`;
    track(`${topic}-value`);
    const s = SchemaBuilder.struct()
      .field('id', Schemas.INT64)
      .field('amount', DecimalType.schema(4, 18))
      .field('at', TimestampType.builder().optional().build())
      .build();
    const v = new Struct(s)
      .put('id', 2n ** 63n - 1n)
      .put('amount', Decimal.parse('-12345678901234.5678'))
      .put('at', new Date(1_700_000_000_123));
    const back = await converter().toConnectData(topic, [], await converter().fromConnectData(topic, [], s, v));
    expect((back.value as Struct).equals(v)).toBe(true);
    expect(DecimalType.precisionOf(back.schema!.fields![1]!.schema)).toBe(18);
  });

  it('carries field defaults (decimal, int64 beyond 2^53, bytes, timestamp, array) through the registry exactly', async () => {
    const topic = `it_avro_defaults_${uniqueSuffix()}`;
    track(`${topic}-value`);
    const s = SchemaBuilder.struct()
      .name(`erp.it.d${uniqueSuffix()}.Defaults`)
      .field('amount', DecimalType.builder(2).defaultValue(Decimal.parse('-1.50')).build())
      .field(
        'big',
        SchemaBuilder.int64()
          .defaultValue(2n ** 60n + 1n)
          .build(),
      )
      .field(
        'raw',
        SchemaBuilder.bytes()
          .optional()
          .defaultValue(Buffer.from([0, 255]))
          .build(),
      )
      .field('at', TimestampType.builder().defaultValue(new Date(0)).build())
      .field('tags', SchemaBuilder.array(Schemas.STRING).defaultValue(['a']).build())
      .build();
    const bytes = await converter().fromConnectData(topic, [], s, new Struct(s));
    const back = await converter().toConnectData(topic, [], bytes);
    expect(schemaEquals(back.schema, s)).toBe(true);
    expect(back.schema!.fields![1]!.schema.defaultValue).toBe(2n ** 60n + 1n);
    expect((back.value as Struct).get('amount')).toEqual(Decimal.parse('-1.50'));
  });

  it('writes records larger than its reusable encode buffer', async () => {
    const topic = `it_avro_big_${uniqueSuffix()}`;
    track(`${topic}-value`);
    const s = SchemaBuilder.struct().field('doc', Schemas.STRING).field('blob', Schemas.BYTES).build();
    const v = new Struct(s).put('doc', 'Grüße 🚚 '.repeat(20_000)).put('blob', Buffer.alloc(150_000, 7));
    const c = converter();
    const bytes = (await c.fromConnectData(topic, [], s, v))!;
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(((await converter().toConnectData(topic, [], bytes)).value as Struct).equals(v)).toBe(true);
  });

  it.each([
    ['TopicNameStrategy', false, (t: string) => `${t}-value`],
    ['io.confluent.kafka.serializers.subject.TopicNameStrategy', true, (t: string) => `${t}-key`],
    ['io.confluent.kafka.serializers.subject.RecordNameStrategy', false, (_t: string, r: string) => r],
    ['TopicRecordNameStrategy', true, (t: string, r: string) => `${t}-${r}`],
  ])('%s (key=%s) registers under the expected subject', async (strategy, isKey, expected) => {
    const suffix = uniqueSuffix();
    const topic = `it_avro_subj_${suffix}`;
    const s = order(suffix);
    const subject = track(expected(topic, s.name!));
    const key = isKey ? 'key.subject.name.strategy' : 'value.subject.name.strategy';
    await converter({ [key]: strategy }, isKey).fromConnectData(
      topic,
      [],
      s,
      new Struct(s).put('id', 1n).put('name', 'x'),
    );
    expect(await subjects()).toContain(subject);
  });

  it('with auto.register.schemas=false and use.latest.version=true writes with the latest registered schema', async () => {
    const suffix = uniqueSuffix();
    const topic = `it_avro_latest_${suffix}`;
    const subject = track(`${topic}-value`);
    const s = order(suffix);
    const v = new Struct(s).put('id', 7n).put('name', 'seven');
    const noRegister = converter({ 'auto.register.schemas': 'false' });
    await expect(noRegister.fromConnectData(topic, [], s, v)).rejects.toThrow(
      new RegExp(`not registered under subject "${subject}".*auto.register.schemas=false`),
    );
    const registered = (await converter().fromConnectData(topic, [], s, v))!;
    const latest = converter({ 'auto.register.schemas': 'false', 'use.latest.version': 'true' });
    const bytes = (await latest.fromConnectData(topic, [], s, v))!;
    expect(bytes.readInt32BE(1)).toBe(registered.readInt32BE(1));
    expect(((await converter().toConnectData(topic, [], bytes)).value as Struct).equals(v)).toBe(true);
    // The exact schema is now registered, so a plain lookup finds it too, once the refusal it remembers (one second:
    // missing.schema.cache.ttl.sec) is over.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await noRegister.fromConnectData(topic, [], s, v))!.readInt32BE(1)).toBe(registered.readInt32BE(1));
  });

  it('rejects an incompatible evolution under BACKWARD with the registry message and the subject', async () => {
    const suffix = uniqueSuffix();
    const topic = `it_avro_compat_${suffix}`;
    const subject = track(`${topic}-value`);
    const v1 = order(suffix);
    await converter().fromConnectData(topic, [], v1, new Struct(v1).put('id', 1n).put('name', 'a'));
    const put = await registry('PUT', `/config/${subject}`, { compatibility: 'BACKWARD' });
    expect(put.status).toBe(200);
    // A new required field without a default cannot read old data: not BACKWARD compatible.
    const v2 = SchemaBuilder.struct()
      .name(v1.name!)
      .field('id', Schemas.INT64)
      .field('name', Schemas.STRING)
      .field('qty', Schemas.INT32)
      .build();
    const attempt = converter().fromConnectData(
      topic,
      [],
      v2,
      new Struct(v2).put('id', 2n).put('name', 'b').put('qty', 1),
    );
    await expect(attempt).rejects.toBeInstanceOf(SchemaError);
    await expect(
      converter().fromConnectData(topic, [], v2, new Struct(v2).put('id', 2n).put('name', 'b').put('qty', 1)),
    ).rejects.toThrow(new RegExp(`incompatible.*subject "${subject}"`));
    // An optional field (default null) is a compatible evolution.
    const v3 = SchemaBuilder.struct()
      .name(v1.name!)
      .field('id', Schemas.INT64)
      .field('name', Schemas.STRING)
      .field('qty', Schemas.OPTIONAL_INT32)
      .build();
    const ok = await converter().fromConnectData(topic, [], v3, new Struct(v3).put('id', 3n).put('name', 'c'));
    expect(ok![0]).toBe(0);
  });

  it('fails clearly on a wrong magic byte, an unknown schema id and an unreachable registry (no credentials shown)', async () => {
    const c = converter();
    await expect(c.toConnectData('t', [], Buffer.from([1, 0, 0, 0, 1, 2]))).rejects.toThrow(
      /Unknown magic byte 0x01 in value of topic "t"/,
    );
    await expect(c.toConnectData('t', [], Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2]))).rejects.toThrow(DataError);
    const down = converter({}, false, 'http://alice:s3cret@127.0.0.1:1/apis/ccompat/v7');
    const s = order('down');
    const err = await down
      .fromConnectData('t', [], s, new Struct(s).put('id', 1n).put('name', 'a'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetriableError);
    expect((err as Error).message).toContain('Schema registry at http://127.0.0.1:1/apis/ccompat/v7 is unreachable');
    expect((err as Error).message).not.toContain('s3cret');
  });
});

describe('AvroConverter registry traffic', () => {
  let server: http.Server;
  let proxyUrl: string;
  let requests = 0;

  beforeAll(async () => {
    // A counting pass-through proxy in front of the real registry.
    const target = new URL(REGISTRY);
    server = http.createServer((req, res) => {
      requests++;
      const upstream = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('calls the registry once per schema and once per id, never per record', async () => {
    const suffix = uniqueSuffix();
    const topic = `it_avro_cache_${suffix}`;
    track(`${topic}-value`);
    const s = order(suffix);
    const writer = converter({}, false, proxyUrl);
    const reader = converter({}, false, proxyUrl);
    requests = 0;
    const encoded = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        writer.fromConnectData(topic, [], s, new Struct(s).put('id', BigInt(i)).put('name', `n${i}`)),
      ),
    );
    expect(requests).toBe(1);
    const decoded = await Promise.all(encoded.map((b) => reader.toConnectData(topic, [], b)));
    expect(requests).toBe(2);
    expect((decoded[199]!.value as Struct).get('id')).toBe(199n);
  });

  it('asks once for a schema id the registry does not have, not once per record (a poison stream)', async () => {
    const reader = converter({}, false, proxyUrl);
    const poison = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2]);
    requests = 0;
    const errors = await Promise.all(
      Array.from({ length: 1000 }, () => reader.toConnectData('t', [], poison).catch((e: unknown) => e)),
    );
    for (let i = 0; i < 1000; i++) errors.push(await reader.toConnectData('t', [], poison).catch((e: unknown) => e));
    expect(requests).toBe(1);
    expect(errors.every((e) => e instanceof DataError)).toBe(true);
    expect((errors[1999] as Error).message).toMatch(/^Schema id 2147483632 was not found in the registry at http/);
  });
});
