import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DataError,
  DateType,
  Decimal,
  DecimalType,
  SchemaBuilder,
  Schemas,
  Struct,
  TimestampType,
  type Schema,
} from '../../../../runtime/api/index.js';
import { castConfig, castPlugins, castValue } from '../../../../transforms/kafka/cast.js';
import { sourceRecord, smt } from './smt-fixtures.js';

const CLASS = 'org.apache.kafka.connect.transforms.Cast';
const cast = (spec: string, variant: 'Key' | 'Value' = 'Value', extra: Record<string, string> = {}) =>
  smt(castPlugins, CLASS, { spec, ...extra }, variant);

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const price = DecimalType.schema(2, 20);
const schema = SchemaBuilder.struct()
  .name('erp.order.Value')
  .field('id', Schemas.INT64)
  .field('qty', SchemaBuilder.int32().optional().defaultValue(7).build())
  .field('ratio', Schemas.FLOAT64)
  .field('flag', Schemas.STRING)
  .field('blob', Schemas.BYTES)
  .field('price', price)
  .field('day', DateType.schema())
  .field('at', TimestampType.schema())
  .field('note', Schemas.OPTIONAL_STRING)
  .build();

function order(): Struct {
  return new Struct(schema)
    .put('id', 2n ** 31n + 5n)
    .put('qty', 300)
    .put('ratio', -3.99)
    .put('flag', 'TRUE')
    .put('blob', Buffer.from('hello'))
    .put('price', Decimal.parse('12345678901234567.89'))
    .put('day', new Date(Date.UTC(2024, 0, 2)))
    .put('at', new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)))
    .put('note', null);
}

describe('Cast config', () => {
  it('requires spec and names it', () => {
    const e = configError(() => smt(castPlugins, CLASS, {}, 'Value'));
    expect(e.key).toBe('spec');
    expect(e.message).toBe('Missing required configuration "spec" which has no default value.');
  });

  it('rejects an empty spec, unknown and non-output types, and whole-value casts combined with others', () => {
    expect(configError(() => cast('')).message).toContain('Must specify at least one field to cast.');
    expect(configError(() => cast('a:int9')).message).toContain('Invalid type found in casting spec: int9');
    expect(configError(() => cast('a:bytes')).message).toContain(
      'Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]',
    );
    expect(configError(() => cast('int32,a:string')).message).toContain('cast the entire value');
    const e = configError(() => cast('a:int8:x'));
    expect([e.key, e.message]).toEqual([
      'spec',
      'Invalid value a:int8:x for configuration spec: Invalid cast mapping: a:int8:x',
    ]);
  });

  it('accepts types in any case and declares the spec once for both variants', () => {
    expect(() => cast('a:INT8,b:Float64')).not.toThrow();
    expect(castPlugins.map((p) => p.className)).toEqual([`${CLASS}$Key`, `${CLASS}$Value`]);
    expect(castConfig.names()).toEqual(['spec', 'replace.null.with.default']);
  });
});

describe('Cast with schema', () => {
  const out = cast(
    'id:int32,qty:int8,ratio:int16,flag:boolean,blob:string,price:string,day:int32,at:string,note:int64',
  ).apply(sourceRecord({ valueSchema: schema, value: order() }))!;
  const v = out.value as Struct;
  const s = out.valueSchema!;

  it('rewrites the field schemas, keeping optionality and casting defaults', () => {
    const types = Object.fromEntries(s.fields!.map((f) => [f.name, [f.schema.type, f.schema.optional, f.schema.name]]));
    expect(types).toEqual({
      id: ['int32', false, undefined],
      qty: ['int8', true, undefined],
      ratio: ['int16', false, undefined],
      flag: ['boolean', false, undefined],
      blob: ['string', false, undefined],
      price: ['string', false, undefined],
      day: ['int32', false, undefined],
      at: ['string', false, undefined],
      note: ['int64', true, undefined],
    });
    expect(s.fields!.find((f) => f.name === 'qty')!.schema.defaultValue).toBe(7);
    expect(s.name).toBe('erp.order.Value');
  });

  it('narrows numbers like Java: integers wrap, doubles truncate', () => {
    expect(v.get('id')).toBe(-2147483643); // (int) (2^31 + 5)
    expect(v.get('qty')).toBe(44); // (byte) 300
    expect(v.get('ratio')).toBe(-3);
  });

  it('parses booleans, base64-encodes bytes, prints decimals exactly and encodes logical dates', () => {
    expect(v.get('flag')).toBe(true);
    expect(v.get('blob')).toBe('aGVsbG8=');
    expect(v.get('price')).toBe('12345678901234567.89');
    expect(v.get('day')).toBe(19724);
    expect(v.get('at')).toBe('2024-01-02T03:04:05.006Z');
    expect(v.getWithoutDefault('note')).toBeNull();
  });

  it('caches the output schema per input schema', () => {
    const t = cast('qty:int16');
    const a = t.apply(sourceRecord({ valueSchema: schema, value: order() }))!;
    const b = t.apply(sourceRecord({ valueSchema: schema, value: order() }))!;
    expect(a.valueSchema).toBe(b.valueSchema);
  });

  it('replace.null.with.default picks the default or keeps null before casting', () => {
    const value = order().put('qty', null);
    const rec = sourceRecord({ valueSchema: schema, value });
    expect((cast('qty:string').apply(rec)!.value as Struct).getWithoutDefault('qty')).toBe('7');
    const raw = cast('qty:string', 'Value', { 'replace.null.with.default': 'false' }).apply(rec)!;
    expect((raw.value as Struct).getWithoutDefault('qty')).toBeNull();
  });

  it('quotes a huge out-of-range value shortened (the message reaches the log and the DLQ headers)', () => {
    const value = order().put('flag', '9'.repeat(500_000));
    let message = '';
    try {
      cast('flag:int8').apply(sourceRecord({ valueSchema: schema, value }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^Value \(9{200}… \(499800 more characters\)\) was out of range for requested data type INT8/,
    );
    expect(message.length).toBeLessThan(400);
  });

  it('fails on a string that does not fit the target, naming the field and the type', () => {
    const value = order().put('flag', '300');
    const t = cast('flag:int8');
    expect(() => t.apply(sourceRecord({ valueSchema: schema, value }))).toThrow(
      new DataError(
        'Value (300) was out of range for requested data type INT8 (input type string) for field "flag"',
        'flag',
      ),
    );
    expect(() => cast('blob:int32').apply(sourceRecord({ valueSchema: schema, value: order() }))).toThrow(
      'Unexpected type in Cast transformation: bytes for field "blob"',
    );
  });

  it('casts the whole key, and drops a Connect logical name that no longer fits', () => {
    const key = cast('int32', 'Key').apply(
      sourceRecord({ keySchema: Schemas.OPTIONAL_INT64, key: 4_294_967_297n, value: { a: 1 } }),
    )!;
    expect(key.keySchema).toMatchObject({ type: 'int32', optional: true });
    expect(key.key).toBe(1);
    expect(key.value).toEqual({ a: 1 });
    const dec = cast('string').apply(sourceRecord({ valueSchema: price, value: Decimal.parse('-0.05') }))!;
    expect(dec.valueSchema).toEqual(Schemas.STRING);
    expect(dec.value).toBe('-0.05');
  });

  it('rejects casting from a struct field', () => {
    const nested = SchemaBuilder.struct()
      .field('inner', SchemaBuilder.struct().field('x', Schemas.INT32).build())
      .build();
    const value = new Struct(nested).put('inner', new Struct(nested.fields![0]!.schema).put('x', 1));
    expect(() => cast('inner:string').apply(sourceRecord({ valueSchema: nested, value }))).toThrow(
      /does not support casting from STRUCT; supported types are \[INT8, .*BYTES\] for field "inner"/,
    );
  });

  it('casts int8/int16/int32 fields to every integer width and to text as Java does', () => {
    const ints = SchemaBuilder.struct()
      .field('b', Schemas.INT8)
      .field('s', Schemas.INT16)
      .field('i', Schemas.INT32)
      .build();
    const t = cast('b:int64,s:int8,i:int16');
    const same = cast('i:int32');
    const widen = cast('b:string,s:int32,i:string');
    // Java: (byte) and (short) keep the low 8/16 bits, sign-extended.
    const javaByte = (n: number) => ((n & 0xff) ^ 0x80) - 0x80;
    const javaShort = (n: number) => ((n & 0xffff) ^ 0x8000) - 0x8000;
    fc.assert(
      fc.property(
        fc.integer({ min: -128, max: 127 }),
        fc.integer({ min: -32768, max: 32767 }),
        fc.integer({ min: -2147483648, max: 2147483647 }),
        (b, s, i) => {
          const value = new Struct(ints).put('b', b).put('s', s).put('i', i);
          const out = t.apply(sourceRecord({ valueSchema: ints, value }))!.value as Struct;
          expect(out.get('b')).toBe(BigInt(b));
          expect(out.get('s')).toBe(javaByte(s));
          expect(out.get('i')).toBe(javaShort(i));
          const text = widen.apply(sourceRecord({ valueSchema: ints, value }))!.value as Struct;
          expect([text.get('b'), text.get('s'), text.get('i')]).toEqual([String(b), s, String(i)]);
          expect((same.apply(sourceRecord({ valueSchema: ints, value }))!.value as Struct).get('i')).toBe(i);
        },
      ),
    );
  });

  it('passes tombstones through', () => {
    const rec = sourceRecord({ valueSchema: schema, value: null });
    expect(cast('qty:int8').apply(rec)).toBe(rec);
  });
});

describe('Cast without schema', () => {
  it('casts map fields and adds a missing spec field as null, as Connect does', () => {
    const out = cast('a:int64,b:string,c:float32,missing:int8').apply(
      sourceRecord({ value: { a: '9007199254740993', b: 1.5, c: 2, d: 'kept' } }),
    )!;
    expect(out.valueSchema).toBeNull();
    expect(out.value).toEqual({ a: 9007199254740993n, b: '1.5', c: 2, d: 'kept', missing: null });
  });

  it('casts a whole schemaless value', () => {
    expect(cast('int16').apply(sourceRecord({ value: '-32768' }))!.value).toBe(-32768);
    expect(cast('boolean').apply(sourceRecord({ value: 0.5 }))!.value).toBe(false); // longValue() == 0
    // Schemaless, a bigint is a Long and a JS number a Double (as JsonConverter reads `42` and `42.0`).
    expect(cast('string').apply(sourceRecord({ value: 42n }))!.value).toBe('42');
    expect(cast('string').apply(sourceRecord({ value: 42 }))!.value).toBe('42.0');
    expect(cast('int32').apply(sourceRecord({ value: 1e10 }))!.value).toBe(2147483647);
  });

  it('refuses values Connect has no type for', () => {
    expect(() => cast('a:int32').apply(sourceRecord({ value: { a: new Date(0) } }))).toThrow(
      'Cast transformation was passed a value of type Date which is not supported by Connect\'s data API for field "a"',
    );
    expect(() => cast('a:int32').apply(sourceRecord({ value: 'x' }))).toThrow(
      'Only Map objects supported in absence of schema for [cast types], found: string',
    );
  });
});

describe('castValue (Java semantics)', () => {
  const f = (s: Schema | null, v: unknown, t: Parameters<typeof castValue>[2]) => castValue(s, v, t);
  it('formats floats like Double.toString / Float.toString', () => {
    expect(f(Schemas.FLOAT64, 42, 'string')).toBe('42.0');
    expect(f(Schemas.FLOAT64, 1e7, 'string')).toBe('1.0E7');
    expect(f(Schemas.FLOAT64, 0.00012, 'string')).toBe('1.2E-4');
    expect(f(Schemas.FLOAT32, Math.fround(0.1), 'string')).toBe('0.1');
    expect(f(Schemas.FLOAT64, NaN, 'string')).toBe('NaN');
  });
  it('saturates doubles to int before narrowing, and maps NaN to 0', () => {
    expect(f(Schemas.FLOAT64, 1e20, 'int32')).toBe(2147483647);
    expect(f(Schemas.FLOAT64, 1e20, 'int8')).toBe(-1); // (byte) Integer.MAX_VALUE
    expect(f(Schemas.FLOAT64, 1e20, 'int64')).toBe(2n ** 63n - 1n);
    expect(f(Schemas.FLOAT64, NaN, 'int16')).toBe(0);
  });
  it('keeps decimals exact until a float is asked for', () => {
    const d = DecimalType.schema(3);
    expect(f(d, Decimal.parse('-98765432109876.543'), 'int64')).toBe(-98765432109876n);
    expect(f(d, Decimal.parse('1.250'), 'float64')).toBe(1.25);
    expect(f(DecimalType.schema(9), new Decimal(1n, 9), 'string')).toBe('1E-9');
  });
  it('parses strings like Java', () => {
    expect(f(Schemas.STRING, ' 2.5f ', 'float64')).toBe(2.5);
    expect(f(Schemas.STRING, '\u00a0\t7.\n', 'float32')).toBe(7);
    expect(f(Schemas.STRING, '.5e1d', 'float64')).toBe(5);
    // A hostile value is refused at once: these backtracked quadratically (0.7–1.7 s each; 1 MB: most of an hour).
    for (const text of [`${'1'.repeat(30_000)}x`, `a${' '.repeat(30_000)}a`, `1.${'1'.repeat(30_000)}.`]) {
      const start = performance.now();
      expect(() => f(Schemas.STRING, text, 'float64')).toThrow(expect.objectContaining({ code: 'ERPSTREAM_DATA' }));
      expect(performance.now() - start).toBeLessThan(100);
    }
    expect(f(Schemas.STRING, '+12', 'int32')).toBe(12);
    expect(() => f(Schemas.STRING, '1.0', 'int32')).toThrow(DataError);
    expect(() => f(Schemas.STRING, '9223372036854775808', 'int64')).toThrow(/out of range/);
    expect(f(Schemas.STRING, 'yes', 'boolean')).toBe(false);
    expect(f(Schemas.BOOLEAN, true, 'int64')).toBe(1n);
  });
  it('prints time-of-day and midnight dates in Connect formats', () => {
    expect(f(SchemaBuilder.int32().build(), 5, 'string')).toBe('5');
    expect(f(DateType.schema(), new Date(Date.UTC(2020, 1, 29)), 'string')).toBe('2020-02-29');
    expect(f(TimestampType.schema(), new Date(3_723_004), 'string')).toBe('01:02:03.004Z');
  });
});
