import fc from 'fast-check';
import {
  DateType,
  Decimal,
  DecimalType,
  DebeziumTypes,
  type Schema,
  SchemaBuilder,
  Struct,
  TimeType,
  TimestampType,
} from '../../../../runtime/api/index.js';

/**
 * Random Connect schemas with matching values, for converter round trips. A schema is generated as a
 * plain spec tree, then built, so shrinking works and struct names are deterministic (by position).
 */

type Leaf =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'boolean'
  | 'string'
  | 'bytes'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'microTimestamp'
  | 'debeziumDate'
  | 'zonedTimestamp'
  | 'namedInt16'
  | 'namedBoolean';

export type Spec =
  | { kind: 'leaf'; leaf: Leaf; optional: boolean }
  | { kind: 'decimal'; scale: number; optional: boolean }
  | { kind: 'array'; items: Spec; optional: boolean }
  | { kind: 'map'; stringKeys: boolean; values: Spec; optional: boolean }
  | { kind: 'struct'; named: boolean; fields: Array<[string, Spec]>; optional: boolean };

const LEAVES: Leaf[] = [
  'int8',
  'int16',
  'int32',
  'int64',
  'float32',
  'float64',
  'boolean',
  'string',
  'bytes',
  'date',
  'time',
  'timestamp',
  'microTimestamp',
  'debeziumDate',
  'zonedTimestamp',
  'namedInt16',
  'namedBoolean',
];

const fieldName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,5}$/);

export const specArb: fc.Arbitrary<Spec> = fc.letrec<{ spec: Spec; struct: Spec }>((tie) => ({
  spec: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ kind: fc.constant('leaf' as const), leaf: fc.constantFrom(...LEAVES), optional: fc.boolean() }),
    fc.record({
      kind: fc.constant('decimal' as const),
      scale: fc.integer({ min: 0, max: 20 }),
      optional: fc.boolean(),
    }),
    fc.record({ kind: fc.constant('array' as const), items: tie('spec'), optional: fc.boolean() }),
    fc.record({
      kind: fc.constant('map' as const),
      stringKeys: fc.boolean(),
      values: tie('spec'),
      optional: fc.boolean(),
    }),
    tie('struct'),
  ),
  struct: fc.record({
    kind: fc.constant('struct' as const),
    named: fc.boolean(),
    fields: fc.uniqueArray(fc.tuple(fieldName, tie('spec')), { maxLength: 4, selector: (f) => f[0] }),
    optional: fc.boolean(),
  }),
})).spec;

/** A top-level struct spec (what connectors emit). */
export const structSpecArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constant('struct' as const),
  named: fc.boolean(),
  fields: fc.uniqueArray(fc.tuple(fieldName, specArb), { minLength: 1, maxLength: 6, selector: (f) => f[0] }),
  optional: fc.constant(false),
});

export function buildSchema(spec: Spec, counter = { n: 0 }): Schema {
  let b: SchemaBuilder;
  switch (spec.kind) {
    case 'leaf':
      b = leafBuilder(spec.leaf);
      break;
    case 'decimal':
      b = DecimalType.builder(spec.scale);
      break;
    case 'array':
      b = SchemaBuilder.array(buildSchema(spec.items, counter));
      break;
    case 'map':
      b = SchemaBuilder.map(
        spec.stringKeys ? SchemaBuilder.string().build() : SchemaBuilder.int32().build(),
        buildSchema(spec.values, counter),
      );
      break;
    case 'struct': {
      b = SchemaBuilder.struct();
      counter.n++;
      if (spec.named) b.name(`test.records.S${counter.n}`);
      for (const [name, f] of spec.fields) b.field(name, buildSchema(f, counter));
      break;
    }
  }
  return b.optional(spec.optional).build();
}

function leafBuilder(leaf: Leaf): SchemaBuilder {
  switch (leaf) {
    case 'date':
      return DateType.builder();
    case 'time':
      return TimeType.builder();
    case 'timestamp':
      return TimestampType.builder();
    case 'microTimestamp':
      return DebeziumTypes.microTimestamp();
    // Names that are not Connect's logical types: the value is read by its type.
    case 'debeziumDate':
      return DebeziumTypes.date();
    case 'zonedTimestamp':
      return DebeziumTypes.zonedTimestamp();
    case 'namedInt16':
      return SchemaBuilder.int16().name('io.debezium.data.Enum').parameter('allowed', 'a,b');
    case 'namedBoolean':
      return SchemaBuilder.bool().name('test.Flag').version(2);
    default:
      return SchemaBuilder.type(leaf);
  }
}

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
const DAY = 86_400_000;

export function valueArb(schema: Schema): fc.Arbitrary<unknown> {
  const base = baseValueArb(schema);
  return schema.optional ? fc.option(base, { nil: null, freq: 4 }) : base;
}

function baseValueArb(schema: Schema): fc.Arbitrary<unknown> {
  switch (schema.name) {
    case DecimalType.schema(0).name: {
      const scale = DecimalType.scaleOf(schema);
      return fc
        .oneof(fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }), fc.bigInt({ min: -1000n, max: 1000n }))
        .map((u) => new Decimal(u, scale));
    }
    case DateType.schema().name:
      return fc.integer({ min: -1_000_000, max: 1_000_000 }).map((d) => new Date(d * DAY));
    case TimeType.schema().name:
      return fc.integer({ min: 0, max: DAY - 1 }).map((ms) => new Date(ms));
    case TimestampType.schema().name:
      return fc.integer({ min: -1e14, max: 1e14 }).map((ms) => new Date(ms));
    default:
      break;
  }
  switch (schema.type) {
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'int32':
      return fc.integer({ min: -2147483648, max: 2147483647 });
    case 'int64':
      return fc.oneof(fc.bigInt(INT64), fc.bigInt({ min: -10n, max: 10n }));
    case 'float32':
      return fc.float({ noNaN: true }).map(Math.fround);
    case 'float64':
      return fc.double({ noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'string':
      return fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('', 'Grüße 東京 🚚', '"quoted"\n\\'));
    case 'bytes':
      return fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a));
    case 'array':
      return fc.array(valueArb(schema.valueSchema!), { maxLength: 3 });
    case 'map': {
      const keyArb = schema.keySchema!.type === 'string' ? fc.string({ unit: 'binary', maxLength: 6 }) : fc.integer();
      return fc
        .uniqueArray(fc.tuple(keyArb, valueArb(schema.valueSchema!)), { maxLength: 3, selector: (e) => e[0] })
        .map((entries) => new Map<unknown, unknown>(entries));
    }
    case 'struct': {
      const fields = schema.fields ?? [];
      return fc.tuple(...fields.map((f) => valueArb(f.schema))).map((values) => {
        const s = new Struct(schema);
        fields.forEach((f, i) => {
          if (values[i] !== null) s.put(f.name, values[i]);
        });
        return s;
      });
    }
  }
}

/** A schema and a value of it. */
export const schemaAndValueArb = (
  specs: fc.Arbitrary<Spec> = specArb,
): fc.Arbitrary<{ schema: Schema; value: unknown }> =>
  specs.map((spec) => buildSchema(spec)).chain((schema) => valueArb(schema).map((value) => ({ schema, value })));

/** Schemaless JSON values as JsonConverter(schemas.enable=false) reads them. */
export const schemalessValueArb: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.bigInt(INT64),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.string({ unit: 'binary' }),
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 5 }), tie('v'), { maxKeys: 3 }),
  ),
})).v;
