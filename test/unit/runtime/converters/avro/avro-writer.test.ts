import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DateType,
  Decimal,
  DecimalType,
  SchemaBuilder,
  Schemas,
  Struct,
  TimestampType,
} from '../../../../../runtime/api/index.js';
import { AvroConverter } from '../../../../../runtime/converters/avro/avro-converter.js';
import { connectToAvroSchema } from '../../../../../runtime/converters/avro/avro-schema.js';
import { compileToAvro } from '../../../../../runtime/converters/avro/avro-values.js';
import { compileConnectEncoder } from '../../../../../runtime/converters/avro/avro-connect-writer.js';
import { NotCovered, compileAvroEncoder } from '../../../../../runtime/converters/avro/avro-writer.js';
import { avscType } from '../../../../../runtime/converters/avro/avsc-types.js';
import { schemaAndValueArb } from '../arbitraries.js';

/** The compiled encoder's bytes, growing the buffer as the caller does; null when it gives up. */
function fastBytes(
  encode: NonNullable<ReturnType<typeof compileAvroEncoder>>,
  value: unknown,
  size = 8,
): Buffer | null {
  let buf = Buffer.alloc(size);
  try {
    let end = encode(value, buf, 0);
    while (end < 0) {
      buf = Buffer.alloc(Math.max(buf.length * 2, buf.length - end));
      end = encode(value, buf, 0);
    }
    return buf.subarray(0, end);
  } catch (e) {
    if (e instanceof NotCovered) return null;
    throw e;
  }
}

describe('compiled Avro encoder', () => {
  it('writes the same bytes as avsc for any Connect schema and value', () => {
    fc.assert(
      fc.property(schemaAndValueArb(), fc.integer({ min: 1, max: 64 }), ({ schema, value }, size) => {
        const avro = connectToAvroSchema(schema);
        const encode = compileAvroEncoder(avro);
        expect(encode).not.toBeNull();
        const v = compileToAvro(schema)(value);
        expect(fastBytes(encode!, v, size)).toEqual(avscType(avro).toBuffer(v));
      }),
      { numRuns: 500 },
    );
  });

  it('writes strings of any length and content (lone surrogates included) and longs of any size as avsc does', () => {
    const s = SchemaBuilder.struct().field('s', Schemas.OPTIONAL_STRING).field('n', Schemas.INT64).build();
    const avro = connectToAvroSchema(s);
    const encode = compileAvroEncoder(avro)!;
    const type = avscType(avro);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'binary-ascii', minLength: 60, maxLength: 70 }),
          fc.constantFrom('\ud800', 'a\udc00b', '\ud83d\ude9a'.repeat(20)),
        ),
        fc.oneof(
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          fc.bigInt({ min: -(2n ** 54n), max: 2n ** 54n }),
          fc.constantFrom(0n, -1n, 2n ** 51n, -(2n ** 51n), 2n ** 53n, -(2n ** 53n) - 1n),
        ),
        (str, n) => {
          const v = { s: str, n };
          expect(fastBytes(encode, v)).toEqual(type.toBuffer(v));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('gives up on what avsc would reject or fill in, so avsc decides', () => {
    const s = SchemaBuilder.struct().field('a', Schemas.INT32).field('b', Schemas.OPTIONAL_STRING).build();
    const encode = compileAvroEncoder(connectToAvroSchema(s))!;
    expect(fastBytes(encode, { a: 'x', b: null })).toBeNull(); // invalid: avsc names the error
    expect(fastBytes(encode, { a: 1.5, b: null })).toBeNull();
    expect(fastBytes(encode, { a: 1 })).toBeNull(); // b undefined: avsc would write the field's default
    expect(compileAvroEncoder(['int', 'string'])).toBeNull(); // general unions stay with avsc
  });

  it('leaves the converter output unchanged, and invalid data still fails with the converter error', async () => {
    const s = SchemaBuilder.struct().name('t.Value').field('id', Schemas.INT64).field('name', Schemas.STRING).build();
    const c = new AvroConverter();
    c.configure({ 'schema.registry.url': 'http://127.0.0.1:1' }, false);
    // No registry in a unit test: the schema id is given as if the registry had answered.
    const w = (c as unknown as { writer(s: unknown): { resolved: Map<string, unknown>; type: unknown } }).writer(s);
    w.resolved.set('t-value', { id: 7, type: w.type, fast: compileAvroEncoder(connectToAvroSchema(s)) });
    const value = new Struct(s).put('id', 42n).put('name', 'Grüße');
    const bytes = c.fromConnectDataSync('t', [], s, value)!;
    const body = avscType(connectToAvroSchema(s)).toBuffer(compileToAvro(s)(value));
    expect(bytes).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), body]));
    await expect(c.fromConnectData('t', [], s, value)).resolves.toEqual(bytes);
    expect(() => c.fromConnectDataSync('t', [], s, { not: 'a struct' })).toThrow(/a Struct/);
  });
});

describe('compiled Connect → Avro encoder', () => {
  it('writes the same bytes as compileToAvro + avsc for any Connect schema and value it covers', () => {
    let covered = 0;
    fc.assert(
      fc.property(schemaAndValueArb(), fc.integer({ min: 1, max: 64 }), ({ schema, value }, size) => {
        const avro = connectToAvroSchema(schema);
        const encode = compileConnectEncoder(schema, avro);
        if (encode === null) return; // maps: the general path
        const bytes = fastBytes(encode, value, size);
        if (bytes === null) return;
        covered++;
        expect(bytes).toEqual(avscType(avro).toBuffer(compileToAvro(schema)(value)));
      }),
      { numRuns: 800 },
    );
    expect(covered).toBeGreaterThan(300);
  });

  it('writes a Debezium-shaped envelope (shared row record, decimals, logical types) as the general path does', () => {
    const row = SchemaBuilder.struct()
      .name('p.s.t.Value')
      .field('id', Schemas.INT64)
      .field('amount', DecimalType.builder(4).optional().build())
      .field('due', DateType.builder().optional().build())
      .field('at', TimestampType.builder().optional().build())
      .field('note', Schemas.OPTIONAL_STRING)
      .optional()
      .build();
    const env = SchemaBuilder.struct()
      .name('p.s.t.Envelope')
      .field('before', row)
      .field('after', row)
      .field('op', Schemas.STRING)
      .build();
    const avro = connectToAvroSchema(env);
    const encode = compileConnectEncoder(env, avro)!;
    expect(encode).not.toBeNull();
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }),
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.boolean(),
        (u, day, deleted) => {
          const r = new Struct(row)
            .put('id', u % 2n ** 62n)
            .put('amount', new Decimal(u, 4))
            .put('due', new Date(day * 86_400_000))
            .put('at', new Date(day * 86_400_123))
            .put('note', deleted ? null : `n${day}`);
          const v = new Struct(env)
            .put('before', deleted ? r : null)
            .put('after', deleted ? null : r)
            .put('op', deleted ? 'd' : 'u');
          expect(fastBytes(encode, v)).toEqual(avscType(avro).toBuffer(compileToAvro(env)(v)));
        },
      ),
      { numRuns: 300 },
    );
    // A decimal of another scale needs rescaling: left to the general path.
    const odd = new Struct(env)
      .put('after', new Struct(row).put('id', 1n).put('amount', new Decimal(1n, 2)))
      .put('op', 'c');
    expect(fastBytes(encode, odd)).toBeNull();
  });
});
