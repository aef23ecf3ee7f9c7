import { describe, expect, it } from 'vitest';
import {
  DateType,
  Decimal,
  SchemaBuilder,
  Schemas,
  Struct,
  TimeType,
  TimestampType,
} from '../../../../runtime/api/index.js';
import { SimpleHeaderConverter, headerConverterPlugins } from '../../../../runtime/converters/index.js';

const c = new SimpleHeaderConverter();
c.configure({});
const text = (schema: Parameters<typeof c.fromConnectHeader>[2], value: unknown): string | null =>
  c.fromConnectHeader('t', 'h', schema, value)?.toString('utf8') ?? null;
const read = (s: string) => c.toConnectHeader('t', 'h', Buffer.from(s, 'utf8'));

describe('SimpleHeaderConverter', () => {
  it('writes values as text: numbers, booleans, decimals, logical dates, structs/maps/arrays as JSON', () => {
    const s = SchemaBuilder.struct()
      .field('id', Schemas.INT64)
      .field('tags', SchemaBuilder.array(Schemas.STRING).build())
      .build();
    expect(text(Schemas.INT32, 42)).toBe('42');
    expect(text(Schemas.INT64, 9007199254740993n)).toBe('9007199254740993');
    expect(text(Schemas.BOOLEAN, false)).toBe('false');
    expect(text(null, Decimal.parse('-12.50'))).toBe('-12.50');
    expect(text(DateType.schema(), new Date(Date.UTC(2024, 0, 31)))).toBe('2024-01-31');
    expect(text(TimeType.schema(), new Date(3_723_004))).toBe('01:02:03.004Z');
    expect(text(TimestampType.schema(), new Date(Date.UTC(2024, 0, 31, 1, 2, 3, 4)))).toBe('2024-01-31T01:02:03.004Z');
    expect(text(s, new Struct(s).put('id', 2n ** 60n).put('tags', ['a']))).toBe(
      '{"id":1152921504606846976,"tags":["a"]}',
    );
    expect(text(null, new Map([['k', 1]]))).toBe('{"k":1}');
    expect(text(null, null)).toBeNull();
  });

  it('infers types when reading, like Connect Values.parseString (documented subset)', () => {
    expect(read('42')).toEqual({ schema: Schemas.INT8, value: 42 });
    expect(read('300')).toEqual({ schema: Schemas.INT16, value: 300 });
    expect(read('70000')).toEqual({ schema: Schemas.INT32, value: 70000 });
    expect(read('9007199254740993')).toEqual({ schema: Schemas.INT64, value: 9007199254740993n });
    expect(read('1.5')).toEqual({ schema: Schemas.FLOAT64, value: 1.5 });
    expect(read('true')).toEqual({ schema: Schemas.BOOLEAN, value: true });
    expect(read('null')).toEqual({ schema: null, value: null });
    expect(read('hello world')).toEqual({ schema: Schemas.STRING, value: 'hello world' });
    expect(read('')).toEqual({ schema: Schemas.STRING, value: '' });
    expect(read('2024-01-31').value).toEqual(new Date(Date.UTC(2024, 0, 31)));
    expect(read('2024-01-31T01:02:03.004Z').schema?.name).toBe(TimestampType.schema().name);
    expect(read('[1,"a"]')).toEqual({ schema: null, value: [1n, 'a'] });
    expect(read('[not json')).toEqual({ schema: Schemas.STRING, value: '[not json' });
    // JSON nested deeper than Jackson takes (1000) is text too; it was a RangeError (stack overflow), failing the record.
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(read(deep)).toEqual({ schema: Schemas.STRING, value: deep });
    expect(c.toConnectHeader('t', 'h', null)).toEqual({ schema: null, value: null });
  });

  it('is the registered header converter', () => {
    expect(headerConverterPlugins[0]!.className).toBe('org.apache.kafka.connect.storage.SimpleHeaderConverter');
  });
});
