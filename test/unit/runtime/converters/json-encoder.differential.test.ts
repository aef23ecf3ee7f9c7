import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  SchemaBuilder,
  Struct,
  TimestampType,
} from '../../../../runtime/api/index.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';
import { twosComplementBase64, twosComplementBytes } from '../../../../runtime/converters/small-decimal.js';
import { bigintToTwosComplement } from '../../../../runtime/api/logical.js';
import { schemaAndValueArb, structSpecArb } from './arbitraries.js';

/**
 * The compiled JSON writers (json-encoder.ts) against the reference path (connectToJson + stringifyJsonExact):
 * the same bytes for every schema and value, and the same error when the reference rejects a value.
 */

type Outcome = { bytes: string | null } | { error: string };

function outcome(f: () => Buffer | null): Outcome {
  try {
    const b = f();
    return { bytes: b === null ? null : b.toString('hex') };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

const CONFIGS: Array<Record<string, string>> = [];
for (const schemas of ['true', 'false'])
  for (const format of ['BASE64', 'NUMERIC'])
    for (const replace of ['true', 'false'])
      CONFIGS.push({ 'schemas.enable': schemas, 'decimal.format': format, 'replace.null.with.default': replace });

function converters(): Array<[string, JsonConverter]> {
  return CONFIGS.map((props) => {
    const c = new JsonConverter();
    c.configure(props, false);
    return [JSON.stringify(props), c];
  });
}

/** Compiled (serialize, twice: cold and warm cache) vs reference (serializeGeneric). */
function expectSame(schema: Schema | null, value: unknown, convs = converters()): void {
  for (const [name, c] of convs) {
    const reference = outcome(() => c.serializeGeneric(schema, value));
    expect(
      outcome(() => c.serialize(schema, value)),
      name,
    ).toEqual(reference);
    expect(
      outcome(() => c.serialize(schema, value)),
      name,
    ).toEqual(reference);
  }
}

/** Unscaled values around every byte-length and sign boundary, the double-exact limit and int64. */
const EDGE_UNSCALED: bigint[] = [0n, 1n, -1n];
for (let bits = 7; bits <= 130; bits++) {
  const p = 2n ** BigInt(bits);
  EDGE_UNSCALED.push(p - 1n, p, p + 1n, -p + 1n, -p, -p - 1n);
}
for (let digits = 1; digits <= 40; digits++) {
  const p = 10n ** BigInt(digits);
  EDGE_UNSCALED.push(p - 1n, -(p - 1n), p, -p);
}

const decimalArb = fc.oneof(
  fc.constantFrom(...EDGE_UNSCALED),
  fc
    .integer({ min: 1, max: 40 })
    .chain((digits) => fc.bigInt({ min: -(10n ** BigInt(digits)), max: 10n ** BigInt(digits) })),
);

describe('small-decimal: two’s complement without BigInt arithmetic', () => {
  it('matches Decimal.toBytes for every safe unscaled value it is given', () => {
    const safe = EDGE_UNSCALED.filter(
      (u) => u <= BigInt(Number.MAX_SAFE_INTEGER) && u >= -BigInt(Number.MAX_SAFE_INTEGER),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...safe), fc.bigInt({ min: -(2n ** 53n) + 1n, max: 2n ** 53n - 1n })),
        (u) => {
          const reference = bigintToTwosComplement(u);
          expect(twosComplementBytes(Number(u)).toString('hex')).toBe(reference.toString('hex'));
          expect(twosComplementBase64(Number(u))).toBe(reference.toString('base64'));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('compiled JSON writers write the reference bytes', () => {
  it('random schemas and values (structs, arrays, maps, every leaf type, nulls), every converter setting', () => {
    const convs = converters();
    fc.assert(
      fc.property(fc.oneof(schemaAndValueArb(), schemaAndValueArb(structSpecArb)), ({ schema, value }) =>
        expectSame(schema, value, convs),
      ),
      { numRuns: 600 },
    );
  });

  it('decimals of every scale, sign and precision, alone and inside a struct', () => {
    const convs = converters();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), decimalArb, fc.boolean(), (scale, unscaled, optional) => {
        const schema = DecimalType.builder(scale).optional(optional).build();
        const d = new Decimal(unscaled, scale);
        expectSame(schema, d, convs);
        const row = SchemaBuilder.struct().name('r.Value').field('amount', schema).build();
        expectSame(row, new Struct(row).put('amount', d), convs);
      }),
      { numRuns: 1500 },
    );
  });

  it('every boundary unscaled value (byte lengths, signs, 2^53, int64, 10^n), at scales 0, 2 and 20', () => {
    const convs = converters();
    for (const scale of [0, 2, 20]) {
      const schema = DecimalType.builder(scale).build();
      for (const u of EDGE_UNSCALED) expectSame(schema, new Decimal(u, scale), convs);
    }
  });

  it('decimals of another scale than the schema’s: rescaled when lossless, the reference error otherwise', () => {
    const schema = DecimalType.builder(4).build();
    for (const [u, s] of [
      [15n, 1],
      [123456n, 6],
      [123456789n, 8],
      [-5n, 0],
    ] as const)
      expectSame(schema, new Decimal(u, s));
  });

  it('null handling: tombstones, optional nulls, defaults (replaced or not), required nulls', () => {
    expectSame(null, null);
    expectSame(null, undefined);
    expectSame(SchemaBuilder.string().optional().build(), null);
    expectSame(SchemaBuilder.string().build(), null);
    const withDefaults = SchemaBuilder.struct()
      .name('d.Value')
      .field('s', SchemaBuilder.string().optional().defaultValue('dflt').build())
      .field('n', SchemaBuilder.int64().defaultValue(7n).build())
      .field('amount', DecimalType.builder(2).optional().defaultValue(new Decimal(-12345n, 2)).build())
      .field('req', SchemaBuilder.int32().build())
      .build();
    expectSame(withDefaults, new Struct(withDefaults).put('req', 1));
    expectSame(withDefaults, new Struct(withDefaults).put('req', 1).put('s', 'x').put('n', 9n));
    expectSame(withDefaults, new Struct(withDefaults)); // required field missing: the reference error
  });

  it('field names the reference orders differently (integer-like), escapes, __proto__ and unicode', () => {
    const schema = SchemaBuilder.struct()
      .field('b', SchemaBuilder.int32().build())
      .field('10', SchemaBuilder.string().build())
      .field('1', SchemaBuilder.string().build())
      .field('__proto__', SchemaBuilder.string().optional().build())
      .field('quote"\\', SchemaBuilder.bool().build())
      .field('Grüße 🚚', SchemaBuilder.string().build())
      .field('01', SchemaBuilder.string().build())
      .build();
    const value = new Struct(schema)
      .put('b', -0)
      .put('10', '\u0000\u001f\ud800')
      .put('1', 'Grüße 東京 🚚')
      .put('__proto__', 'p')
      .put('quote"\\', true)
      .put('Grüße 🚚', '\\"\n\t')
      .put('01', '');
    expectSame(schema, value);
  });

  it('dates, times, timestamps and floats at their edges', () => {
    const row = SchemaBuilder.struct()
      .field('d', DateType.builder().optional().build())
      .field('ts', TimestampType.builder().optional().build())
      .field('f', SchemaBuilder.float32().optional().build())
      .field('g', SchemaBuilder.float64().optional().build())
      .build();
    for (const [d, ts, f, g] of [
      [new Date(0), new Date(8.64e15), 1.5, 1e21],
      [new Date(-86_400_000 * 700_000), new Date(-8.64e15), NaN, -Infinity],
      [new Date(86_400_000 * 3), new Date(1_700_000_000_123), Math.fround(0.1), 5e-324],
      [null, null, -0, -0],
    ] as const) {
      expectSame(row, new Struct(row).put('d', d).put('ts', ts).put('f', f).put('g', g));
    }
    // An invalid Date and a date with a time of day: the reference's errors.
    expectSame(TimestampType.builder().build(), new Date(NaN));
    expectSame(DateType.builder().build(), new Date(1000));
  });

  it('values of the wrong type and structs of other or equal schemas: the reference outcome', () => {
    const s1 = SchemaBuilder.struct().name('x.V').field('a', SchemaBuilder.int64().build()).build();
    const s2 = SchemaBuilder.struct().name('x.V').field('a', SchemaBuilder.int64().build()).build();
    const s3 = SchemaBuilder.struct().name('x.W').field('a', SchemaBuilder.int64().build()).build();
    expectSame(s1, new Struct(s2).put('a', 1n)); // equal schema, other object: written
    expectSame(s1, new Struct(s3).put('a', 1n)); // other schema: mismatch error
    expectSame(SchemaBuilder.int32().build(), 1.5);
    expectSame(SchemaBuilder.int32().build(), '1');
    expectSame(SchemaBuilder.int64().build(), 2 ** 60);
    expectSame(SchemaBuilder.int64().build(), 12);
    expectSame(SchemaBuilder.string().build(), 12);
    expectSame(DecimalType.builder(2).build(), 1.25);
    expectSame(SchemaBuilder.bytes().build(), 'AA==');
  });
});
