import { describe, expect, it } from 'vitest';
import { DataError, Decimal, Schemas } from '../../../../runtime/api/index.js';
import {
  ByteArrayConverter,
  JsonConverter,
  StringConverter,
  converterPlugins,
} from '../../../../runtime/converters/index.js';

describe('StringConverter', () => {
  it('writes values as UTF-8 text and reads back an optional string', async () => {
    const c = new StringConverter();
    c.configure({}, true);
    expect((await c.fromConnectData('t', [], Schemas.STRING, 'Grüße 🚚'))!.toString('utf8')).toBe('Grüße 🚚');
    expect((await c.fromConnectData('t', [], Schemas.INT64, 9007199254740993n))!.toString()).toBe('9007199254740993');
    expect((await c.fromConnectData('t', [], null, Decimal.parse('-0.0001')))!.toString()).toBe('-0.0001');
    expect(await c.fromConnectData('t', [], Schemas.OPTIONAL_STRING, null)).toBeNull();
    expect(await c.toConnectData('t', [], Buffer.from('Grüße', 'utf8'))).toEqual({
      schema: Schemas.OPTIONAL_STRING,
      value: 'Grüße',
    });
    expect(await c.toConnectData('t', [], null)).toEqual({ schema: Schemas.OPTIONAL_STRING, value: null });
  });

  it('honours converter.encoding (Java charset names)', async () => {
    const c = new StringConverter();
    c.configure({ 'converter.encoding': 'ISO-8859-1' }, false);
    expect([...(await c.fromConnectData('t', [], Schemas.STRING, 'é'))!]).toEqual([0xe9]);
    expect((await c.toConnectData('t', [], Buffer.from([0xe9]))).value).toBe('é');
  });

  it('rejects an unknown encoding, naming the key', () => {
    expect(() => new StringConverter().configure({ 'converter.encoding': 'EBCDIC' }, false)).toThrow(
      /converter.encoding/,
    );
  });
});

describe('ByteArrayConverter', () => {
  it('passes bytes through and reads back optional bytes', async () => {
    const c = new ByteArrayConverter();
    c.configure({}, false);
    const b = Buffer.from([0, 255, 1]);
    expect(await c.fromConnectData('t', [], Schemas.BYTES, b)).toBe(b);
    expect(await c.fromConnectData('t', [], null, new Uint8Array([7]))).toEqual(Buffer.from([7]));
    expect(await c.toConnectData('t', [], b)).toEqual({ schema: Schemas.OPTIONAL_BYTES, value: b });
    expect(await c.fromConnectData('t', [], null, null)).toBeNull();
  });

  it('rejects a non-bytes schema or value like Java', async () => {
    const c = new ByteArrayConverter();
    await expect(c.fromConnectData('t', [], Schemas.STRING, 'x')).rejects.toThrow(
      'Invalid schema type for ByteArrayConverter: string',
    );
    await expect(c.fromConnectData('t', [], null, 'x')).rejects.toBeInstanceOf(DataError);
  });
});

describe('converter plugins', () => {
  it('registers every Connect converter name with its alias', () => {
    expect(converterPlugins.map((p) => p.className).sort()).toEqual([
      'io.confluent.connect.avro.AvroConverter',
      'org.apache.kafka.connect.converters.BooleanConverter',
      'org.apache.kafka.connect.converters.ByteArrayConverter',
      'org.apache.kafka.connect.converters.DoubleConverter',
      'org.apache.kafka.connect.converters.FloatConverter',
      'org.apache.kafka.connect.converters.IntegerConverter',
      'org.apache.kafka.connect.converters.LongConverter',
      'org.apache.kafka.connect.converters.ShortConverter',
      'org.apache.kafka.connect.json.JsonConverter',
      'org.apache.kafka.connect.storage.StringConverter',
    ]);
    expect(converterPlugins.map((p) => p.aliases?.[0]).sort()).toEqual([
      'AvroConverter',
      'BooleanConverter',
      'ByteArrayConverter',
      'DoubleConverter',
      'FloatConverter',
      'IntegerConverter',
      'JsonConverter',
      'LongConverter',
      'ShortConverter',
      'StringConverter',
    ]);
  });
});

describe('synchronous converter forms (the worker uses them to spare a promise per record)', () => {
  const cases = [
    ['StringConverter', () => new StringConverter(), {}, Schemas.STRING, 'Grüße 🚚'],
    ['ByteArrayConverter', () => new ByteArrayConverter(), {}, Schemas.BYTES, Buffer.from([0, 255, 7])],
    ['JsonConverter (schemaless)', () => new JsonConverter(), { 'schemas.enable': 'false' }, null, { a: 1, b: [true] }],
    ['JsonConverter (with schemas)', () => new JsonConverter(), {}, Schemas.INT64, 9007199254740993n],
  ] as const;
  for (const [name, make, props, schema, value] of cases) {
    it(`${name}: the same bytes and data as the async forms`, async () => {
      const c = make();
      c.configure(props, false);
      const bytes = c.fromConnectDataSync('t', [], schema, value);
      expect(bytes).toEqual(await c.fromConnectData('t', [], schema, value));
      expect(c.toConnectDataSync('t', [], bytes)).toEqual(await c.toConnectData('t', [], bytes));
      expect(c.toConnectDataSync('t', [], null)).toEqual(await c.toConnectData('t', [], null));
    });
  }

  it('JsonConverter: bad JSON throws the same DataError synchronously', async () => {
    const c = new JsonConverter();
    c.configure({ 'schemas.enable': 'false' }, false);
    const bad = Buffer.from('{broken');
    const asyncError = (await c.toConnectData('t', [], bad).catch((e: unknown) => e)) as Error;
    expect(asyncError).toBeInstanceOf(DataError);
    expect(() => c.toConnectDataSync('t', [], bad)).toThrow(asyncError.message);
  });
});
