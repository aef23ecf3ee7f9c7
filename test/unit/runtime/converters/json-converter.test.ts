import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { MAX_DECIMAL_BYTES, MAX_DECIMAL_RESCALE } from '../../../../runtime/api/logical.js';
import {
  DataError,
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  TimeType,
  TimestampType,
  valuesEqual,
} from '../../../../runtime/api/index.js';
import { MAX_CACHED_SCHEMA_CHARS } from '../../../../runtime/converters/json-converter.js';
import {
  JsonConverter,
  converterPlugins,
  jsonSchemaToConnect,
  jsonToConnect,
} from '../../../../runtime/converters/index.js';

// The schema cache test measures the heap after a full GC.
setFlagsFromString('--expose-gc');

function converter(props: Record<string, string> = {}): JsonConverter {
  const c = new JsonConverter();
  c.configure(props, false);
  return c;
}

async function write(
  schema: Schema | null,
  value: unknown,
  props: Record<string, string> = {},
): Promise<string | null> {
  const b = await converter(props).fromConnectData('t', [], schema, value);
  return b === null ? null : b.toString('utf8');
}

async function read(text: string | null, props: Record<string, string> = {}) {
  return converter(props).toConnectData('t', [], text === null ? null : Buffer.from(text, 'utf8'));
}

describe('JsonConverter envelope (byte-identical to Java JsonConverter)', () => {
  it.each([
    [Schemas.INT8, 12, '{"schema":{"type":"int8","optional":false},"payload":12}'],
    [Schemas.INT16, -300, '{"schema":{"type":"int16","optional":false},"payload":-300}'],
    [Schemas.INT32, 2147483647, '{"schema":{"type":"int32","optional":false},"payload":2147483647}'],
    [Schemas.INT64, 9223372036854775807n, '{"schema":{"type":"int64","optional":false},"payload":9223372036854775807}'],
    [Schemas.FLOAT32, 1.5, '{"schema":{"type":"float","optional":false},"payload":1.5}'],
    [Schemas.FLOAT64, 1, '{"schema":{"type":"double","optional":false},"payload":1.0}'],
    [Schemas.FLOAT64, 1e21, '{"schema":{"type":"double","optional":false},"payload":1.0E21}'],
    [Schemas.FLOAT64, 0.0001, '{"schema":{"type":"double","optional":false},"payload":1.0E-4}'],
    [Schemas.BOOLEAN, true, '{"schema":{"type":"boolean","optional":false},"payload":true}'],
    [
      Schemas.OPTIONAL_STRING,
      // Jackson 2.16 escapes characters outside the BMP as surrogate pairs, and controls in upper-case hex.
      'Grüße 東京 🚚 "q" \u0001\n',
      '{"schema":{"type":"string","optional":true},"payload":"Grüße 東京 \\uD83D\\uDE9A \\"q\\" \\u0001\\n"}',
    ],
    [Schemas.BYTES, Buffer.from([0, 1, 2, 255]), '{"schema":{"type":"bytes","optional":false},"payload":"AAEC/w=="}'],
    [Schemas.OPTIONAL_INT32, null, '{"schema":{"type":"int32","optional":true},"payload":null}'],
  ])('%o %o', async (schema, value, expected) => {
    expect(await write(schema, value)).toBe(expected);
    const back = await read(expected);
    expect(valuesEqual(back.value, value)).toBe(true);
    expect(back.schema).toEqual(schema);
  });

  it('writes logical types as their integer encodings with name and version', async () => {
    const s = SchemaBuilder.struct()
      .field('d', DateType.schema())
      .field('t', TimeType.schema())
      .field('ts', TimestampType.schema())
      .build();
    const v = new Struct(s)
      .put('d', new Date(Date.UTC(2024, 1, 29)))
      .put('t', new Date(3_723_004))
      .put('ts', new Date(1_700_000_000_123));
    expect(await write(s, v)).toBe(
      '{"schema":{"type":"struct","fields":[' +
        '{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1,"field":"d"},' +
        '{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1,"field":"t"},' +
        '{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"ts"}' +
        '],"optional":false},"payload":{"d":19782,"t":3723004,"ts":1700000000123}}',
    );
  });

  it('writes nested structs, arrays and maps (string keys as objects, others as [k,v] pairs) with name/doc/version/parameters', async () => {
    const line = SchemaBuilder.struct().name('erp.Line').field('qty', Schemas.INT32).build();
    const s = SchemaBuilder.struct()
      .name('erp.Order')
      .version(3)
      .doc('an order')
      .parameter('source', 'erp')
      .field('lines', SchemaBuilder.array(line).build())
      .field('tags', SchemaBuilder.map(Schemas.STRING, Schemas.INT64).build())
      .field('byId', SchemaBuilder.map(Schemas.INT32, Schemas.OPTIONAL_STRING).build())
      .build();
    const v = new Struct(s)
      .put('lines', [new Struct(line).put('qty', 2)])
      .put(
        'tags',
        new Map([
          ['b', 1n],
          ['1', 2n],
        ]),
      )
      .put(
        'byId',
        new Map<number, string | null>([
          [7, 'x'],
          [8, null],
        ]),
      );
    const text = await write(s, v);
    expect(text).toBe(
      '{"schema":{"type":"struct","fields":[' +
        '{"type":"array","items":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"qty"}],"optional":false,"name":"erp.Line"},"optional":false,"field":"lines"},' +
        '{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int64","optional":false},"optional":false,"field":"tags"},' +
        '{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true},"optional":false,"field":"byId"}' +
        '],"optional":false,"name":"erp.Order","version":3,"doc":"an order","parameters":{"source":"erp"}},' +
        '"payload":{"lines":[{"qty":2}],"tags":{"b":1,"1":2},"byId":[[7,"x"],[8,null]]}}',
    );
    const back = await read(text);
    expect((back.value as Struct).equals(v)).toBe(true);
  });

  it('writes defaults in the schema and uses them for null fields (replace.null.with.default)', async () => {
    const f = SchemaBuilder.int32().optional().defaultValue(42).build();
    const s = SchemaBuilder.struct().field('n', f).build();
    const v = new Struct(s);
    expect(await write(s, v)).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"default":42,"field":"n"}],"optional":false},"payload":{"n":42}}',
    );
    expect(await write(s, v, { 'replace.null.with.default': 'false' })).toBe(
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"default":42,"field":"n"}],"optional":false},"payload":{"n":null}}',
    );
    const text =
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":true,"default":42,"field":"n"}],"optional":false},"payload":{"n":null}}';
    expect(((await read(text)).value as Struct).get('n')).toBe(42);
    expect(((await read(text, { 'replace.null.with.default': 'false' })).value as Struct).getWithoutDefault('n')).toBe(
      null,
    );
  });

  it('rejects null for a required field without default, naming the field', async () => {
    const s = SchemaBuilder.struct().field('id', Schemas.INT64).build();
    await expect(write(s, new Struct(s))).rejects.toThrow(/null value for field that is required.*"id"/);
  });

  it('writes a null value with a null schema as a tombstone and reads a tombstone back as null', async () => {
    expect(await write(null, null)).toBeNull();
    expect(await read(null)).toEqual({ schema: null, value: null });
  });
});

describe('JsonConverter decimals', () => {
  const cases: Array<[string, number]> = [
    ['12345678901234.5678', 4],
    ['-0.0001', 4],
    ['1234567890123456789012345678901234567890', 0],
    ['-123456789012345678901234567890.1234567890', 10],
    ['0.00', 2],
  ];

  it.each(cases)("BASE64 %s writes the unscaled two's complement and reads back exactly", async (text, scale) => {
    const schema = DecimalType.schema(scale);
    const d = Decimal.parse(text);
    const out = (await write(schema, d))!;
    const payload = JSON.parse(out).payload as string;
    expect(Buffer.from(payload, 'base64')).toEqual(d.toBytes());
    const back = await read(out);
    expect((back.value as Decimal).toString()).toBe(text);
  });

  it.each(cases)('NUMERIC %s writes an exact JSON number and reads back exactly', async (text, scale) => {
    const schema = DecimalType.schema(scale);
    const out = (await write(schema, Decimal.parse(text), { 'decimal.format': 'NUMERIC' }))!;
    expect(out).toBe(
      `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"${scale}"}},"payload":${text}}`,
    );
    const back = await read(out, { 'decimal.format': 'NUMERIC' });
    expect((back.value as Decimal).toString()).toBe(text);
  });

  it('NUMERIC writes tiny values in scientific notation like Jackson and reads them back exactly', async () => {
    const out = (await write(DecimalType.schema(8), new Decimal(1n, 8), { 'decimal.format': 'NUMERIC' }))!;
    expect(out).toContain('"payload":1E-8}');
    expect((await read(out)).value).toEqual(new Decimal(1n, 8));
  });

  it('known base64 value: 12345678901234.5678 with scale 4 is "AbabS6Yw804="', async () => {
    const out = await write(DecimalType.schema(4), Decimal.parse('12345678901234.5678'));
    expect(out).toContain('"payload":"AbabS6Yw804="');
  });

  it('a hostile exponent or scale in a record is a DataError naming it, not minutes of CPU (a poison record)', async () => {
    const decimal = (scale: string, payload: string) =>
      `{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"${scale}"}},"payload":${payload}}`;
    // One converter, each record read after a good one of its schema: the compiled decoder reads it too.
    const c = converter({ 'decimal.format': 'NUMERIC' });
    const readWith = (text: string) => c.toConnectData('t', [], Buffer.from(text, 'utf8'));
    for (const [payload, error] of [
      ['1e999999999', /exponent of "1e999999999" is out of range/],
      ['1e-999999999', DataError],
    ] as const) {
      await expect(readWith(decimal('2', payload))).rejects.toThrow(error);
      expect((await readWith(decimal('2', '1.5'))).value).toEqual(new Decimal(150n, 2));
      await expect(readWith(decimal('2', payload))).rejects.toThrow(error);
    }
    // A schema whose scale is out of reach keeps the written scale (as a lossy rescale does, like Java).
    for (let i = 0; i < 2; i++)
      expect((await readWith(decimal('999999999', '1.5'))).value).toEqual(Decimal.parse('1.5'));
    // Bytes carry no scale of their own: the schema's is taken, and one out of range is refused before any value of
    // that scale exists (a value of scale 400000000 written as text took 400 MB; a few of them ended the worker).
    for (const scale of ['400000000', '-400000000', String(MAX_DECIMAL_RESCALE + 1)]) {
      const before = process.memoryUsage().rss;
      await expect(readWith(decimal(scale, '"AQ=="'))).rejects.toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_DATA',
          message: expect.stringContaining(`Decimal scale ${scale} is out of range`),
        }),
      );
      expect(process.memoryUsage().rss - before).toBeLessThan(50_000_000);
    }
    expect((await readWith(decimal(String(MAX_DECIMAL_RESCALE), '"AQ=="'))).value).toEqual(
      new Decimal(1n, MAX_DECIMAL_RESCALE),
    );
    // Without schemas a number with a fraction or exponent is read exactly too.
    await expect(read('{"a":1e999999999}', { 'schemas.enable': 'false' })).rejects.toThrow(/out of range/);
  });

  it('a huge base64 decimal in a record is read in linear time, or refused naming the field (a poison record)', async () => {
    const record = (bytes: Buffer) =>
      `{"schema":{"type":"struct","fields":[{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"},"field":"amount"}],"optional":false},"payload":{"amount":"${bytes.toString('base64')}"}}`;
    // One converter: the second read of each goes through the compiled decoder.
    const c = converter();
    const readWith = (text: string) => c.toConnectData('t', [], Buffer.from(text, 'utf8'));
    const largest = Buffer.alloc(MAX_DECIMAL_BYTES, 0x7f);
    for (let i = 0; i < 2; i++) {
      // Was ~0.6 s (a shift per byte, each copying the bigint); 300 KB took a minute.
      let start = performance.now();
      const s = (await readWith(record(largest))).value as Struct;
      expect(performance.now() - start).toBeLessThan(200);
      expect((s.get('amount') as Decimal).toBytes().equals(largest)).toBe(true);
      // Was read (in ~1.2 s), and took a second more each time it was written as text.
      start = performance.now();
      await expect(readWith(record(Buffer.alloc(100_000, 0x7f)))).rejects.toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_DATA',
          fieldPath: 'amount',
          message: expect.stringMatching(/^Field "amount": A decimal of 100000 bytes is too large/),
        }),
      );
      expect(performance.now() - start).toBeLessThan(200);
    }
  });

  it('reads a NUMERIC decimal written with fewer fraction digits at the schema scale', async () => {
    const back = await read(
      '{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":1.5}',
    );
    expect(back.value).toEqual(new Decimal(150n, 2));
  });

  it('rejects a decimal that would need rounding to fit the scale', async () => {
    await expect(write(DecimalType.schema(2), Decimal.parse('1.234'))).rejects.toThrow(/scale 2 without rounding/);
  });
});

describe('JsonConverter dates beyond what JavaScript holds (poison records)', () => {
  it('refuses a Timestamp or Date out of range with a DataError naming the field and value, on both paths', async () => {
    const record = (type: string, name: string, v: string) =>
      Buffer.from(
        `{"schema":{"type":"struct","fields":[{"type":"${type}","optional":false,"name":"org.apache.kafka.connect.data.${name}","version":1,"field":"at"}],"optional":false},"payload":{"at":${v}}}`,
      );
    const c = converter();
    for (const [type, name, good, bad, message] of [
      ['int64', 'Timestamp', '8640000000000000', '9223372036854775807', 'Timestamp 9223372036854775807 (ms)'],
      ['int64', 'Timestamp', '-8640000000000000', '-8640000000000001', 'Timestamp -8640000000000001 (ms)'],
      ['int32', 'Date', '100000000', '2147483647', 'Date 2147483647 (days)'],
    ] as const) {
      // Twice: the second of each is read by the compiled decoder after a good record.
      for (let i = 0; i < 2; i++) {
        const ok = (await c.toConnectData('t', [], record(type, name, good))).value as Struct;
        expect(Number.isNaN((ok.get('at') as Date).getTime())).toBe(false);
        // Was an Invalid Date, written back as an uncoded RangeError (or "NaN-NaN-NaN" by the header converter).
        await expect(c.toConnectData('t', [], record(type, name, bad))).rejects.toThrow(
          expect.objectContaining({
            code: 'ERPSTREAM_DATA',
            fieldPath: 'at',
            message: expect.stringMatching(
              new RegExp(`^Field "at": ${message} is beyond the dates JavaScript can hold`.replace(/[()]/g, '\\$&')),
            ),
          }),
        );
      }
    }
    // A Date built elsewhere as invalid is a DataError too when written.
    const schema = SchemaBuilder.struct().field('at', TimestampType.schema()).build();
    await expect(write(schema, new Struct(schema).put('at', new Date(NaN)))).rejects.toThrow(
      expect.objectContaining({ code: 'ERPSTREAM_DATA' }),
    );
  });
});

describe('JsonConverter schemas of many fields or parameters (poison records)', () => {
  it('reads them in linear time (a scan or a copy per field or parameter made them n²)', async () => {
    const c = converter();
    const fields = Array.from({ length: 20_000 }, (_, i) => `{"type":"int32","optional":true,"field":"f${i}"}`);
    // 20,000 fields in 1 MB: ~1.1 s before.
    let start = performance.now();
    const wide = await c.toConnectData(
      't',
      [],
      Buffer.from(`{"schema":{"type":"struct","optional":false,"fields":[${fields.join(',')}]},"payload":{"f7":7}}`),
    );
    expect(performance.now() - start).toBeLessThan(400);
    expect((wide.value as Struct).get('f7')).toBe(7);
    // 5,000 parameters: ~2 s before; 50,000 (640 KB) held the thread for minutes.
    const params = Array.from({ length: 5_000 }, (_, i) => `"p${i}":"v"`);
    start = performance.now();
    const many = await c.toConnectData(
      't',
      [],
      Buffer.from(
        `{"schema":{"type":"string","optional":false,"parameters":{${params.join(',')},"__proto__":"x"}},"payload":"s"}`,
      ),
    );
    expect(performance.now() - start).toBeLessThan(200);
    expect(Object.keys(many.schema!.parameters!).length).toBe(5_001);
    expect(Object.getPrototypeOf(many.schema!.parameters)).toBe(Object.prototype);
    // Duplicate field names are still refused.
    await expect(
      c.toConnectData(
        't',
        [],
        Buffer.from(`{"schema":{"type":"struct","optional":false,"fields":[${fields[0]},${fields[0]}]},"payload":{}}`),
      ),
    ).rejects.toThrow(/field name duplication f0/);
  });
});

describe('JsonConverter int64', () => {
  it.each([2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n])('keeps %s exact both ways', async (n) => {
    const out = (await write(Schemas.INT64, n))!;
    expect(out).toBe(`{"schema":{"type":"int64","optional":false},"payload":${n}}`);
    expect((await read(out)).value).toBe(n);
  });

  it('schemaless: integral numbers read as int64 bigints, exactly', async () => {
    const back = await read('{"id":9007199254740993,"x":1.5,"s":"a","n":null,"a":[1,true]}', {
      'schemas.enable': 'false',
    });
    expect(back.schema).toBeNull();
    expect(back.value).toEqual({ id: 9007199254740993n, x: 1.5, s: 'a', n: null, a: [1n, true] });
  });

  it('schemaless: writes plain JSON with exact int64', async () => {
    expect(await write(null, { id: 9007199254740993n, m: new Map([['k', 1.5]]) }, { 'schemas.enable': 'false' })).toBe(
      '{"id":9007199254740993,"m":{"k":1.5}}',
    );
  });
});

describe('JsonConverter errors', () => {
  it('requires the envelope with schemas.enable=true, like Java', async () => {
    await expect(read('{"id":1}')).rejects.toThrow(
      'JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. ' +
        'If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.',
    );
    await expect(read('{"schema":null,"payload":1,"extra":2}')).rejects.toThrow(/requires "schema" and "payload"/);
    await expect(read('[1]')).rejects.toBeInstanceOf(DataError);
  });

  it('names the position of malformed JSON', async () => {
    await expect(read('{"schema":null,\n "payload": tru}')).rejects.toThrow(
      /serialization error: Unexpected character "t" at position 28 \(line 2, column 13\)/,
    );
    await expect(read('{"a":1', { 'schemas.enable': 'false' })).rejects.toThrow(/at position 6/);
  });

  it('names the field whose JSON type is wrong', async () => {
    const text =
      '{"schema":{"type":"struct","fields":[{"type":"int32","optional":false,"field":"qty"}],"optional":false},"payload":{"qty":"7"}}';
    await expect(read(text)).rejects.toThrow(/int32 at "qty": expected an integer/);
  });

  it("rejects unknown schema types and malformed schemas with Java's messages", () => {
    expect(() => jsonSchemaToConnect({ type: 'decimal' })).toThrow('Unknown schema type: decimal');
    expect(() => jsonSchemaToConnect({ optional: true })).toThrow("Schema must contain 'type' field");
    expect(() => jsonSchemaToConnect({ type: 'struct', fields: {} })).toThrow(/"fields" argument is not an array/);
    expect(() => jsonSchemaToConnect({ type: 'map', values: { type: 'string' } })).toThrow(
      'Map schema did not specify the key type',
    );
  });

  it('rejects a map that is not encoded as pairs', () => {
    const s = SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build();
    expect(() => jsonToConnect(s, { a: 1 })).toThrow(/non-string fields should be encoded as JSON array of tuples/);
  });

  it('refuses records nested deeper than Java does (1000) with a DataError, on every path (a poison record)', async () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    const arraySchema = (depth: number) =>
      '{"type":"array","optional":true,"items":'.repeat(depth) + '{"type":"int32"}' + '}'.repeat(depth);
    const deepError = expect.objectContaining({
      code: 'ERPSTREAM_DATA',
      message: expect.stringMatching(/Nesting depth 1001/),
    });
    // Schemaless: 1000 levels, as many as Jackson takes.
    const plain = converter({ 'schemas.enable': 'false' });
    expect((await plain.toConnectData('t', [], Buffer.from(nested(1000)))).value).toBeInstanceOf(Array);
    // Was a RangeError from inferValue past the parser (depths ~8,500 to ~12,000 here), or a stack overflow message.
    for (const depth of [1001, 9000, 200_000])
      await expect(plain.toConnectData('t', [], Buffer.from(nested(depth)))).rejects.toThrow(deepError);
    // With schemas: the envelope is one level, and the schema (an object per level) counts too. Was a RangeError
    // from the schema's and the value's conversion at depths ~1,500 to ~4,500.
    const c = converter();
    const envelope = (schemaDepth: number, payloadDepth: number) =>
      Buffer.from(`{"schema":${arraySchema(schemaDepth)},"payload":${nested(payloadDepth)}}`);
    expect((await c.toConnectData('t', [], envelope(998, 998))).value).toBeInstanceOf(Array);
    for (const [s, p] of [
      [998, 1000],
      [999, 1],
      [2000, 2000],
      [4000, 1],
    ] as const)
      await expect(c.toConnectData('t', [], envelope(s, p))).rejects.toThrow(deepError);
    // After a good record of a struct schema the compiled decoder reads the payload: it counts the same way.
    const struct = (member: string) =>
      Buffer.from(
        `{"schema":{"type":"struct","fields":[{"type":"array","items":{"type":"int32"},"optional":true,"field":"a"}],"optional":false},"payload":{"a":[],${member}}}`,
      );
    for (let i = 0; i < 2; i++) {
      expect(((await c.toConnectData('t', [], struct(`"b":${nested(998)}`))).value as Struct).get('a')).toEqual([]);
      await expect(c.toConnectData('t', [], struct(`"b":${nested(999)}`))).rejects.toThrow(deepError);
      await expect(c.toConnectData('t', [], struct(`"b":${nested(100_000)}`))).rejects.toThrow(deepError);
    }
  });

  it('rejects an invalid decimal.format', () => {
    expect(() => converter({ 'decimal.format': 'FLOAT' })).toThrow(/decimal.format/);
  });
});

describe('JsonConverter schema cache', () => {
  it('keeps at most MAX_CACHED_SCHEMA_CHARS of schema text, so records of distinct huge schemas cannot fill memory', async () => {
    const gc = runInNewContext('gc') as () => void;
    const c = converter();
    const cache = (c as unknown as { toConnectCache: { size: number; weight: number } }).toConnectCache;
    const record = (r: number) =>
      Buffer.from(
        `{"schema":{"type":"struct","optional":false,"fields":[${Array.from({ length: 10_000 }, (_, i) => `{"type":"int32","optional":true,"field":"r${r}f${i}"}`).join(',')}]},"payload":{}}`,
      );
    gc();
    const before = process.memoryUsage().heapUsed;
    // 40 records of a different 500 KB schema each: all were kept (~7.6 MB apiece; a few hundred ended the worker).
    for (let r = 0; r < 40; r++) await c.toConnectData('t', [], record(r));
    expect(cache.weight).toBeLessThanOrEqual(MAX_CACHED_SCHEMA_CHARS);
    expect(cache.size).toBeLessThanOrEqual(9);
    gc();
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(120_000_000);
    // Small schemas are still kept by count.
    const small = converter();
    const smallCache = (small as unknown as { toConnectCache: { size: number } }).toConnectCache;
    for (let r = 0; r < 50; r++) {
      await small.toConnectData(
        't',
        [],
        Buffer.from(
          `{"schema":{"type":"struct","optional":false,"fields":[{"type":"int32","optional":true,"field":"f${r}"}]},"payload":{}}`,
        ),
      );
    }
    expect(smallCache.size).toBe(50);
  });

  it('reads alternating schemas, pretty-printed envelopes and trailing garbage correctly on one instance', async () => {
    const c = converter();
    const a = SchemaBuilder.struct().field('n', Schemas.INT32).build();
    const b = SchemaBuilder.struct().field('n', Schemas.STRING).build();
    const ta = (await c.fromConnectData('t', [], a, new Struct(a).put('n', 1)))!;
    const tb = (await c.fromConnectData('t', [], b, new Struct(b).put('n', 'x')))!;
    for (let i = 0; i < 3; i++) {
      expect(((await c.toConnectData('t', [], ta)).value as Struct).get('n')).toBe(1);
      expect(((await c.toConnectData('t', [], tb)).value as Struct).get('n')).toBe('x');
    }
    const pretty = JSON.stringify(JSON.parse(ta.toString()), null, 2);
    expect(((await c.toConnectData('t', [], Buffer.from(pretty))).value as Struct).get('n')).toBe(1);
    await expect(c.toConnectData('t', [], Buffer.from(`${ta.toString()}x`))).rejects.toThrow(/trailing content/);
    await expect(c.toConnectData('t', [], Buffer.from(ta.toString().replace(/}$/, ',"extra":1}')))).rejects.toThrow(
      /requires "schema" and "payload"/,
    );
  });

  it('reads repeated envelopes with multi-byte UTF-8 in the schema and the payload as a fresh instance does', async () => {
    const s = SchemaBuilder.struct().name('café.Value').field('nom', Schemas.STRING).build();
    const w = converter();
    const records = ['crème brûlée', '日本語', '😀 x', 'plain'].map((nom) =>
      w.fromConnectDataSync('t', [], s, new Struct(s).put('nom', nom))!,
    );
    const c = converter();
    for (const bytes of [...records, ...records]) {
      const fresh = converter().toConnectDataSync('t', [], bytes);
      const again = c.toConnectDataSync('t', [], bytes);
      expect((again.value as Struct).get('nom')).toBe((fresh.value as Struct).get('nom'));
      expect(again.schema?.name).toBe('café.Value');
    }
    // The same schema head but a payload that is not JSON: the general path reports it, with its position.
    const broken = Buffer.from(records[0]!.toString().replace(/"nom":"[^"]*"/, '"nom":crème'));
    expect(() => c.toConnectDataSync('t', [], broken)).toThrow(/serialization error: Unexpected character/);
    // Whitespace other than JSON's after the payload is trailing content, on either path.
    const nbsp = Buffer.from(`${records[3]!.toString()}\u00a0`);
    expect(() => c.toConnectDataSync('t', [], nbsp)).toThrow(/trailing content/);
    expect(() => converter().toConnectDataSync('t', [], nbsp)).toThrow(/trailing content/);
  });
});

describe('JsonConverter plugin', () => {
  it('is registered by class name and alias', () => {
    const p = converterPlugins.find((x) => x.className === 'org.apache.kafka.connect.json.JsonConverter');
    expect(p?.aliases).toContain('JsonConverter');
    expect(p?.config.names()).toEqual(
      expect.arrayContaining(['schemas.enable', 'schemas.cache.size', 'decimal.format', 'replace.null.with.default']),
    );
  });

  it('accepts plain JSON.parse output in jsonToConnect (offline runner input)', () => {
    const s = SchemaBuilder.struct().field('id', Schemas.INT64).field('f', Schemas.FLOAT32).build();
    const v = jsonToConnect(s, JSON.parse('{"id": 5, "f": 0.1}')) as Struct;
    expect(v.get('id')).toBe(5n);
    expect(v.get('f')).toBe(Math.fround(0.1));
  });
});
