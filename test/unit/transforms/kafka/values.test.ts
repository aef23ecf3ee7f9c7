import { describe, expect, it } from 'vitest';
import { DATE_NAME, DataError, Decimal, Schemas, TIMESTAMP_NAME, TIME_NAME } from '../../../../runtime/api/index.js';
import { narrowToInt } from '../../../../transforms/kafka/java-values.js';
import { parseString } from '../../../../transforms/kafka/values.js';

describe('hostile numbers (a header value, a Cast of a decimal)', () => {
  it('a huge exponent is not turned into 10^n: it stays a decimal, or refuses with a DataError', () => {
    // Each of these computed 10^999999999 as a bigint before: minutes on the worker's only thread.
    // A decimal's scale is bounded (±20,000) since: such a literal is refused, naming its scale.
    expect(() => parseString('1e999999999')).toThrow(expect.objectContaining({ code: 'ERPSTREAM_DATA' }));
    expect(() => parseString('1e999999999')).toThrow(/Decimal scale -999999999 is out of range/);
    expect(parseString('1e-999999999').schema).toBe(Schemas.FLOAT32);
    expect(() => narrowToInt(new Decimal(1n, 999_999_999), 32, false)).toThrow(DataError);
    expect(narrowToInt(new Decimal(1n, 20_000), 32, false)).toBe(0);
    expect(narrowToInt(new Decimal(1234n, 2), 32, false)).toBe(12);
  });
});

describe('Values.parseString (top-level literals)', () => {
  it('picks the narrowest exact integer type, by value not by spelling', () => {
    expect(parseString('127')).toEqual({ schema: Schemas.INT8, value: 127 });
    expect(parseString('128')).toEqual({ schema: Schemas.INT16, value: 128 });
    expect(parseString('-32769')).toEqual({ schema: Schemas.INT32, value: -32769 });
    expect(parseString('2147483648')).toEqual({ schema: Schemas.INT64, value: 2147483648n });
    expect(parseString('-9223372036854775808')).toEqual({ schema: Schemas.INT64, value: -9223372036854775808n });
    expect(parseString('+5')).toEqual({ schema: Schemas.INT8, value: 5 });
    // BigDecimal *ValueExact accepts integral values with a fraction or exponent.
    expect(parseString('1.0')).toEqual({ schema: Schemas.INT8, value: 1 });
    expect(parseString('1e3')).toEqual({ schema: Schemas.INT16, value: 1000 });
  });

  it('uses float32, then float64, for non-integers; exact Decimal beyond', () => {
    expect(parseString('0.25')).toEqual({ schema: Schemas.FLOAT32, value: 0.25 });
    expect(parseString('-.5')).toEqual({ schema: Schemas.FLOAT32, value: -0.5 });
    expect(parseString('1e39')).toEqual({ schema: Schemas.FLOAT64, value: 1e39 });
    const big = parseString('92233720368547758070');
    expect(big.schema).toMatchObject({ name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '0' } });
    expect(big.value).toEqual(new Decimal(92233720368547758070n, 0));
  });

  it('reads true/false/null only as whole literals', () => {
    expect(parseString(' true ')).toEqual({ schema: Schemas.BOOLEAN, value: true });
    expect(parseString('false')).toEqual({ schema: Schemas.BOOLEAN, value: false });
    expect(parseString('TRUE')).toEqual({ schema: Schemas.STRING, value: 'TRUE' });
    expect(parseString('null')).toEqual({ schema: null, value: null });
    expect(parseString('nullable')).toEqual({ schema: Schemas.STRING, value: 'nullable' });
  });

  it('reads ISO-8601 dates, times and timestamps as Connect logical types (UTC)', () => {
    const date = parseString('2024-01-15');
    expect(date.schema!.name).toBe(DATE_NAME);
    expect(date.value).toEqual(new Date(Date.UTC(2024, 0, 15)));
    const time = parseString('10:30:00.250Z');
    expect(time.schema!.name).toBe(TIME_NAME);
    expect(time.value).toEqual(new Date(37_800_250));
    const ts = parseString('2024-01-15T10:30:00.250Z');
    expect(ts.schema!.name).toBe(TIMESTAMP_NAME);
    expect(ts.value).toEqual(new Date(Date.UTC(2024, 0, 15, 10, 30, 0, 250)));
  });

  it('keeps anything else as the original string', () => {
    expect(parseString('')).toEqual({ schema: Schemas.STRING, value: '' });
    expect(parseString('  ')).toEqual({ schema: Schemas.STRING, value: '  ' });
    expect(parseString('12abc')).toEqual({ schema: Schemas.STRING, value: '12abc' });
    expect(parseString('0x1F')).toEqual({ schema: Schemas.STRING, value: '0x1F' });
    expect(parseString('1,2')).toEqual({ schema: Schemas.STRING, value: '1,2' });
    expect(parseString('2024-1-5')).toEqual({ schema: Schemas.STRING, value: '2024-1-5' });
    expect(parseString(null)).toEqual({ schema: null, value: null });
  });
});
