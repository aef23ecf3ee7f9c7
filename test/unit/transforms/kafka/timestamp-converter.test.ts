import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DATE_NAME,
  DataError,
  DateType,
  DebeziumTypes,
  SchemaBuilder,
  Schemas,
  Struct,
  TIMESTAMP_NAME,
  TIME_NAME,
  TimeType,
  TimestampType,
} from '../../../../runtime/api/index.js';
import { timestampConverterPlugins } from '../../../../transforms/kafka/timestamp-converter.js';
import { KAFKA, apply, record, transform } from './record-smt-fixtures.js';

const VALUE = `${KAFKA}TimestampConverter$Value`;
const KEY = `${KAFKA}TimestampConverter$Key`;
const MS = Date.UTC(2024, 0, 15, 10, 30, 5, 123);
const ISO = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'";

const convert = (props: Record<string, string>) => transform(VALUE, props);
const whole = (
  props: Record<string, string>,
  valueSchema: ReturnType<typeof TimestampType.schema> | null,
  value: unknown,
) => apply(convert(props), record({ valueSchema, value }));

describe('TimestampConverter', () => {
  it('has $Key and $Value variants with Connect config keys', () => {
    expect(timestampConverterPlugins.map((p) => p.className)).toEqual([KEY, VALUE]);
    expect(timestampConverterPlugins[0]!.config.names()).toEqual([
      'field',
      'target.type',
      'format',
      'unix.precision',
      'replace.null.with.default',
    ]);
  });

  describe('whole value with schema', () => {
    it('Timestamp → string, unix, Date, Time', () => {
      const v = new Date(MS);
      const s = whole({ 'target.type': 'string', format: ISO }, TimestampType.schema(), v);
      expect(s).toMatchObject({ valueSchema: Schemas.STRING, value: '2024-01-15T10:30:05.123Z' });
      const u = whole({ 'target.type': 'unix' }, TimestampType.schema(), v);
      expect(u).toMatchObject({ valueSchema: Schemas.INT64, value: BigInt(MS) });
      const d = whole({ 'target.type': 'Date' }, TimestampType.schema(), v);
      expect(d.valueSchema!.name).toBe(DATE_NAME);
      expect(d.value).toEqual(new Date(Date.UTC(2024, 0, 15)));
      const t = whole({ 'target.type': 'Time' }, TimestampType.schema(), v);
      expect(t.valueSchema!.name).toBe(TIME_NAME);
      expect(t.value).toEqual(new Date(Date.UTC(1970, 0, 1, 10, 30, 5, 123)));
    });

    it('string → Timestamp using the format, in UTC', () => {
      const out = whole({ 'target.type': 'Timestamp', format: 'dd.MM.yyyy HH:mm' }, Schemas.STRING, '15.01.2024 10:30');
      expect(out.valueSchema!.name).toBe(TIMESTAMP_NAME);
      expect(out.value).toEqual(new Date(Date.UTC(2024, 0, 15, 10, 30)));
    });

    it('unix (int64) → Timestamp honouring unix.precision', () => {
      const precise = (precision: string, value: bigint) =>
        whole({ 'target.type': 'Timestamp', 'unix.precision': precision }, Schemas.INT64, value).value;
      expect(precise('seconds', 1_705_314_605n)).toEqual(new Date(1_705_314_605_000));
      expect(precise('milliseconds', BigInt(MS))).toEqual(new Date(MS));
      expect(precise('microseconds', BigInt(MS) * 1000n + 999n)).toEqual(new Date(MS));
      expect(precise('nanoseconds', BigInt(MS) * 1_000_000n + 999_999n)).toEqual(new Date(MS));
    });

    it('truncates sub-millisecond values toward zero, like TimeUnit', () => {
      const out = whole({ 'target.type': 'Timestamp', 'unix.precision': 'microseconds' }, Schemas.INT64, -1500n);
      expect(out.value).toEqual(new Date(-1));
    });

    it('keeps micro/nanosecond precision in unix → unix and never goes through a float', () => {
      const nanos = 1_705_314_605_123_456_789n;
      const out = whole({ 'target.type': 'unix', 'unix.precision': 'nanoseconds' }, Schemas.INT64, nanos);
      expect(out.value).toBe(nanos);
      const debezium = DebeziumTypes.microTimestamp().build();
      const micros = 1_705_314_605_123_456n;
      const s = whole({ 'target.type': 'string', format: ISO, 'unix.precision': 'microseconds' }, debezium, micros);
      expect(s.value).toBe('2024-01-15T10:30:05.123Z');
    });

    it('Timestamp → unix in seconds truncates', () => {
      const out = whole({ 'target.type': 'unix', 'unix.precision': 'seconds' }, TimestampType.schema(), new Date(MS));
      expect(out.value).toBe(1_705_314_605n);
    });

    it('Date and Time inputs convert to Timestamp', () => {
      const d = whole({ 'target.type': 'Timestamp' }, DateType.schema(), new Date(Date.UTC(2024, 0, 15)));
      expect(d.value).toEqual(new Date(Date.UTC(2024, 0, 15)));
      const t = whole({ 'target.type': 'string', format: 'HH:mm' }, TimeType.schema(), new Date(37_800_000));
      expect(t.value).toBe('10:30');
    });

    it('Date of a pre-epoch instant floors to its UTC midnight', () => {
      const out = whole({ 'target.type': 'Date' }, TimestampType.schema(), new Date(Date.UTC(1969, 11, 31, 23, 0)));
      expect(out.value).toEqual(new Date(Date.UTC(1969, 11, 31)));
    });

    it('passes a null value through with the optionality kept', () => {
      const optional = TimestampType.builder().optional().build();
      const out = whole({ 'target.type': 'unix' }, optional, null);
      expect(out).toMatchObject({ valueSchema: Schemas.OPTIONAL_INT64, value: null });
    });

    it('works on the key with $Key', () => {
      const out = apply(
        transform(KEY, { 'target.type': 'unix' }),
        record({ keySchema: TimestampType.schema(), key: new Date(MS), value: 'v' }),
      );
      expect(out.key).toBe(BigInt(MS));
      expect(out.keySchema).toBe(Schemas.INT64);
      expect(out.value).toBe('v');
    });
  });

  describe('a field with schema', () => {
    const schema = SchemaBuilder.struct()
      .name('erp.Shipment')
      .field('id', Schemas.INT64)
      .field('shipped_at', SchemaBuilder.int64().optional().build())
      .build();
    const t = () => convert({ field: 'shipped_at', 'target.type': 'Timestamp' });

    it('converts the field, rewrites its schema (optional kept) and keeps other fields', () => {
      const value = new Struct(schema).put('id', 1n).put('shipped_at', BigInt(MS));
      const out = apply(t(), record({ valueSchema: schema, value }));
      expect(out.valueSchema!.name).toBe('erp.Shipment');
      expect(out.valueSchema!.fields!.map((f) => [f.name, f.schema.name, f.schema.optional])).toEqual([
        ['id', undefined, false],
        ['shipped_at', TIMESTAMP_NAME, true],
      ]);
      const struct = out.value as Struct;
      expect(struct.get('id')).toBe(1n);
      expect(struct.get('shipped_at')).toEqual(new Date(MS));
    });

    it('derives the output schema once per input schema', () => {
      const tr = t();
      const a = apply(tr, record({ valueSchema: schema, value: new Struct(schema).put('id', 1n) }));
      const b = apply(tr, record({ valueSchema: schema, value: new Struct(schema).put('id', 2n) }));
      expect(a.valueSchema).toBe(b.valueSchema);
      expect((a.value as Struct).get('shipped_at')).toBeNull();
    });

    it('passes a tombstone through with the converted schema', () => {
      const out = apply(t(), record({ valueSchema: schema, value: null }));
      expect(out.value).toBeNull();
      expect(out.valueSchema!.fields![1]!.schema.name).toBe(TIMESTAMP_NAME);
    });

    it('names the field when a string does not match the format', () => {
      const s = SchemaBuilder.struct().field('at', Schemas.STRING).build();
      const tr = convert({ field: 'at', 'target.type': 'unix', format: 'yyyy-MM-dd' });
      let err: unknown;
      try {
        tr.apply(record({ valueSchema: s, value: new Struct(s).put('at', '15/01/2024') }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DataError);
      expect((err as DataError).fieldPath).toBe('at');
      expect((err as Error).message).toBe(
        'Could not parse timestamp: value (15/01/2024) does not match pattern (yyyy-MM-dd) for field "at"',
      );
    });

    it('quotes a huge unparseable value shortened (the message reaches the log and the DLQ headers)', () => {
      const s = SchemaBuilder.struct().field('at', Schemas.STRING).build();
      const tr = convert({ field: 'at', 'target.type': 'unix', format: 'yyyy-MM-dd' });
      const huge = 'x'.repeat(1_000_000);
      let message = '';
      try {
        tr.apply(record({ valueSchema: s, value: new Struct(s).put('at', huge) }));
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(
        /^Could not parse timestamp: value \(x{200}… \(999800 more characters\)\) does not match/,
      );
      expect(message.length).toBeLessThan(400);
    });

    it('rejects a field schema that is no timestamp type', () => {
      const s = SchemaBuilder.struct().field('at', Schemas.INT32).build();
      expect(() =>
        convert({ field: 'at', 'target.type': 'unix' }).apply(
          record({ valueSchema: s, value: new Struct(s).put('at', 1) }),
        ),
      ).toThrow('Schema int32 for field "at" does not correspond to a known timestamp type format');
    });

    it('requires a Struct value', () => {
      expect(() => t().apply(record({ valueSchema: schema, value: 'oops' }))).toThrow(
        'Only Struct objects supported for [converting timestamp formats], found: string',
      );
    });
  });

  describe('schemaless', () => {
    it('infers the input type: Date → Timestamp, integer → unix, string → string', () => {
      const toUnix = convert({ 'target.type': 'unix' });
      expect(apply(toUnix, record({ value: new Date(MS) })).value).toBe(BigInt(MS));
      const toTs = convert({ 'target.type': 'Timestamp', format: ISO });
      expect(apply(toTs, record({ value: BigInt(MS) })).value).toEqual(new Date(MS));
      expect(apply(toTs, record({ value: MS })).value).toEqual(new Date(MS));
      expect(apply(toTs, record({ value: '2024-01-15T10:30:05.123Z' })).value).toEqual(new Date(MS));
    });

    it('converts one map entry and keeps the others (a missing entry becomes null)', () => {
      const tr = convert({ field: 'at', 'target.type': 'string', format: 'yyyy-MM-dd' });
      const out = apply(tr, record({ value: { id: 1, at: new Date(MS) } }));
      expect(out.value).toEqual({ id: 1, at: '2024-01-15' });
      expect(out.valueSchema).toBeNull();
      expect(apply(tr, record({ value: { id: 1 } })).value).toEqual({ id: 1, at: null });
    });

    it('passes tombstones through', () => {
      const out = apply(convert({ field: 'at', 'target.type': 'unix' }), record({ value: null }));
      expect(out.value).toBeNull();
    });

    it('names unsupported value types', () => {
      expect(() => convert({ 'target.type': 'unix' }).apply(record({ value: true }))).toThrow(
        'TimestampConverter does not support boolean objects as timestamps',
      );
      expect(() => convert({ field: 'at', 'target.type': 'unix' }).apply(record({ value: { at: 1.5 } }))).toThrow(
        'TimestampConverter does not support number objects as timestamps for field "at"',
      );
      expect(() => convert({ 'target.type': 'unix' }).apply(record({ value: 'x' }))).toThrow(
        'Cannot parse the string timestamp "x": set \'format\' to its SimpleDateFormat pattern',
      );
    });
  });

  describe('config', () => {
    it('requires target.type, one of the five case-sensitive names', () => {
      expect(() => convert({})).toThrow('Missing required configuration "target.type" which has no default value.');
      expect(() => convert({ 'target.type': 'timestamp' })).toThrow(
        'Invalid value timestamp for configuration target.type: String must be one of: string, unix, Date, Time, Timestamp',
      );
      expect(() => convert({ 'target.type': 'unix', 'unix.precision': 'minutes' })).toThrow(
        'for configuration unix.precision',
      );
    });

    it('requires format for string targets and rejects unsupported pattern letters', () => {
      let err: unknown;
      try {
        convert({ 'target.type': 'string' });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe('format');
      expect((err as Error).message).toBe(
        'TimestampConverter requires format option to be specified when using string timestamps',
      );
      expect(() => convert({ 'target.type': 'string', format: "yyyy-'W'ww" })).toThrow(
        /configuration format: .*pattern letter 'w' \(week in year\) is not supported/,
      );
    });
  });
});
