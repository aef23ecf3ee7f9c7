import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DateType,
  DebeziumTypes,
  Decimal,
  DecimalType,
  SchemaBuilder,
  SchemaError,
  Schemas,
  Struct,
  TimeType,
  TimestampType,
  bigintToTwosComplement,
  schemaEquals,
  valuesEqual,
} from '../../../../../runtime/api/index.js';
import { avroToConnectSchema, connectToAvroSchema } from '../../../../../runtime/converters/avro/avro-schema.js';
import { compileFromAvro, compileToAvro, unscaledBytes } from '../../../../../runtime/converters/avro/avro-values.js';
import { avscType } from '../../../../../runtime/converters/avro/avsc-types.js';
import { schemaAndValueArb } from '../arbitraries.js';

describe('Connect → Avro schema (Confluent AvroData shapes)', () => {
  it('maps primitives, int8/int16 with connect.type, and optional as a null-first union', () => {
    expect(connectToAvroSchema(Schemas.INT32)).toBe('int');
    expect(connectToAvroSchema(Schemas.INT64)).toBe('long');
    expect(connectToAvroSchema(Schemas.FLOAT32)).toBe('float');
    expect(connectToAvroSchema(Schemas.FLOAT64)).toBe('double');
    expect(connectToAvroSchema(Schemas.BYTES)).toBe('bytes');
    expect(connectToAvroSchema(Schemas.INT8)).toEqual({ type: 'int', 'connect.type': 'int8' });
    expect(connectToAvroSchema(Schemas.OPTIONAL_INT16)).toEqual(['null', { type: 'int', 'connect.type': 'int16' }]);
  });

  it('maps logical types like Confluent (decimal precision from connect.decimal.precision, default 64)', () => {
    expect(connectToAvroSchema(DecimalType.schema(2, 10))).toEqual({
      type: 'bytes',
      scale: 2,
      precision: 10,
      'connect.version': 1,
      'connect.parameters': { scale: '2', 'connect.decimal.precision': '10' },
      'connect.name': 'org.apache.kafka.connect.data.Decimal',
      logicalType: 'decimal',
    });
    expect(connectToAvroSchema(DecimalType.schema(4))).toMatchObject({ scale: 4, precision: 64 });
    expect(connectToAvroSchema(DateType.schema())).toEqual({
      type: 'int',
      'connect.version': 1,
      'connect.name': 'org.apache.kafka.connect.data.Date',
      logicalType: 'date',
    });
    expect(connectToAvroSchema(TimeType.schema())).toMatchObject({ type: 'int', logicalType: 'time-millis' });
    expect(connectToAvroSchema(TimestampType.schema())).toMatchObject({
      type: 'long',
      logicalType: 'timestamp-millis',
    });
    expect(connectToAvroSchema(DebeziumTypes.microTimestamp().build())).toEqual({
      type: 'long',
      'connect.version': 1,
      'connect.name': 'io.debezium.time.MicroTimestamp',
    });
  });

  it('maps structs to records (ConnectDefault when unnamed), optional fields default null, string-keyed maps to map, others to MapEntry arrays', () => {
    const s = SchemaBuilder.struct()
      .name('erp.dbo.shipments.Value')
      .field('id', Schemas.INT64)
      .field('note', Schemas.OPTIONAL_STRING)
      .field('qty', SchemaBuilder.int32().defaultValue(1).build())
      .field('attrs', SchemaBuilder.map(Schemas.STRING, Schemas.STRING).build())
      .field('byId', SchemaBuilder.map(Schemas.INT32, Schemas.STRING).build())
      .field('inner', SchemaBuilder.struct().field('x', Schemas.BOOLEAN).build())
      .build();
    expect(connectToAvroSchema(s)).toEqual({
      type: 'record',
      name: 'Value',
      namespace: 'erp.dbo.shipments',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'note', type: ['null', 'string'], default: null },
        { name: 'qty', type: 'int', default: 1 },
        { name: 'attrs', type: { type: 'map', values: 'string' } },
        {
          name: 'byId',
          type: {
            type: 'array',
            items: {
              type: 'record',
              name: 'MapEntry',
              namespace: 'io.confluent.connect.avro',
              fields: [
                { name: 'key', type: 'int' },
                { name: 'value', type: 'string' },
              ],
            },
          },
        },
        {
          name: 'inner',
          type: {
            type: 'record',
            name: 'ConnectDefault',
            namespace: 'io.confluent.connect.avro',
            fields: [{ name: 'x', type: 'boolean' }],
          },
        },
      ],
      'connect.name': 'erp.dbo.shipments.Value',
    });
  });

  it('puts the value type first in the union when an optional field has a non-null default', () => {
    const s = SchemaBuilder.struct().field('n', SchemaBuilder.int32().optional().defaultValue(5).build()).build();
    expect((connectToAvroSchema(s) as unknown as { fields: unknown[] }).fields[0]).toEqual({
      name: 'n',
      type: ['int', 'null'],
      default: 5,
    });
  });

  it('refers to a record by name when the same named struct appears twice (Debezium before/after)', () => {
    const row = SchemaBuilder.struct().name('db.t.Value').field('id', Schemas.INT32).optional().build();
    const env = SchemaBuilder.struct().name('db.t.Envelope').field('before', row).field('after', row).build();
    const avro = connectToAvroSchema(env) as unknown as { fields: Array<{ type: unknown }> };
    expect(avro.fields[1]!.type).toEqual(['null', 'db.t.Value']);
    expect(schemaEquals(avroToConnectSchema(avro as never), env)).toBe(true);
  });

  it('keeps names with characters Avro forbids through connect.name, and rejects invalid field names clearly', () => {
    const s = SchemaBuilder.struct().name('my-topic.Value').field('a', Schemas.INT32).build();
    const avro = connectToAvroSchema(s);
    expect(avro).toMatchObject({ name: 'Value', namespace: 'my_topic', 'connect.name': 'my-topic.Value' });
    expect(avroToConnectSchema(avro).name).toBe('my-topic.Value');
    const bad = SchemaBuilder.struct().field('Order Date', Schemas.INT32).build();
    expect(() => connectToAvroSchema(bad)).toThrow(SchemaError);
    expect(() => connectToAvroSchema(bad)).toThrow(/"Order Date" is not a valid Avro name/);
  });
});

describe('Avro → Connect schema', () => {
  it('reads schemas written by other producers (no connect.* properties)', () => {
    const s = avroToConnectSchema({
      type: 'record',
      name: 'Order',
      namespace: 'shop',
      fields: [
        { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
        { name: 'day', type: { type: 'int', logicalType: 'date' } },
        { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'DONE'] } },
        { name: 'note', type: ['null', 'string'], default: null },
        { name: 'n', type: 'long', default: 7 },
      ],
    });
    expect(s.name).toBe('shop.Order');
    expect(s.fields!.map((f) => [f.name, f.schema.type, f.schema.name ?? null])).toEqual([
      ['amount', 'bytes', 'org.apache.kafka.connect.data.Decimal'],
      ['day', 'int32', 'org.apache.kafka.connect.data.Date'],
      ['status', 'string', null],
      ['note', 'string', null],
      ['n', 'int64', null],
    ]);
    expect(DecimalType.scaleOf(s.fields![0]!.schema)).toBe(2);
    expect(DecimalType.precisionOf(s.fields![0]!.schema)).toBe(12);
    expect(s.fields![3]!.schema.optional).toBe(true);
    expect(s.fields![4]!.schema.defaultValue).toBe(7n);
  });

  it('rejects general unions with a clear message', () => {
    expect(() => avroToConnectSchema(['int', 'string'])).toThrow(/only unions of null and one type/);
  });
});

describe('Avro values (offline, through avsc)', () => {
  it('round-trips any Connect schema and value through the Avro schema and binary encoding', () => {
    fc.assert(
      fc.property(schemaAndValueArb(), ({ schema, value }) => {
        const avro = connectToAvroSchema(schema);
        const type = avscType(JSON.parse(JSON.stringify(avro)));
        const bytes = type.toBuffer(compileToAvro(schema)(value));
        const back = avroToConnectSchema(JSON.parse(JSON.stringify(avro)));
        expect(schemaEquals(back, schema)).toBe(true);
        expect(valuesEqual(compileFromAvro(back)(type.fromBuffer(bytes)), value)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('encodes int64 beyond 2^53 and decimals exactly', () => {
    const s = SchemaBuilder.struct().field('id', Schemas.INT64).field('amt', DecimalType.schema(4)).build();
    const v = new Struct(s).put('id', -(2n ** 63n)).put('amt', Decimal.parse('-12345678901234.5678'));
    const type = avscType(connectToAvroSchema(s));
    const back = compileFromAvro(s)(type.fromBuffer(type.toBuffer(compileToAvro(s)(v)))) as Struct;
    expect(back.get('id')).toBe(-(2n ** 63n));
    expect((back.get('amt') as Decimal).toString()).toBe('-12345678901234.5678');
  });

  it("writes decimal bytes exactly as Java's BigInteger.toByteArray", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt(), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.bigInt({ min: -300n, max: 300n })),
        (u) => {
          expect(unscaledBytes(u)).toEqual(bigintToTwosComplement(u));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('names the field when a value does not fit', () => {
    const s = SchemaBuilder.struct().field('amt', DecimalType.schema(2)).build();
    expect(() => compileToAvro(s)(new Struct(s).put('amt', Decimal.parse('1.234')))).toThrow(
      /scale 2 without rounding at "amt"/,
    );
  });
});

describe('Avro record fields with unusual names', () => {
  it('rejects a field named __proto__ (avsc would decode it into the prototype)', () => {
    const s = SchemaBuilder.struct().field('__proto__', Schemas.INT32).build();
    expect(() => connectToAvroSchema(s)).toThrow(/"__proto__" is not a valid Avro name/);
  });
});
