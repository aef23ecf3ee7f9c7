import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DateType,
  Decimal,
  DecimalType,
  type Schema,
  SchemaBuilder,
  Schemas,
  Struct,
  TimeType,
  TimestampType,
} from '../../../runtime/api/index.js';
import { JsonConverter } from '../../../runtime/converters/index.js';
import { schemaAndValueArb } from '../../unit/runtime/converters/arbitraries.js';

/**
 * Byte-for-byte comparison with Kafka Connect's own JsonConverter (connect-json 3.9.1, the jars the
 * local stack runs Connect with): Java reads each line we wrote and writes the same Connect data back;
 * the two texts must be identical.
 */
const stackDir = process.env.ERPSTREAM_STACK_DIR?.trim();
if (!stackDir)
  throw new Error('ERPSTREAM_STACK_DIR is not set: eval "$(scripts/stack env)" (it locates the Connect jars)');
const classpath = `${stackDir}/lib/connect/*`;
if (!existsSync(`${stackDir}/lib/connect`))
  throw new Error(`No Connect jars under ${stackDir}/lib/connect: run scripts/stack up`);
const oracle = fileURLToPath(new URL('./java/JsonConverterOracle.java', import.meta.url));

async function javaRewrites(lines: string[], decimalFormat: string): Promise<string[]> {
  const run = promisify(execFile);
  const child = run('java', ['-cp', classpath, oracle, decimalFormat, 'true'], { maxBuffer: 1 << 26 });
  child.child.stdin!.end(`${lines.join('\n')}\n`);
  const { stdout } = await child;
  return stdout.split('\n').slice(0, lines.length);
}

async function ours(schema: Schema | null, value: unknown, decimalFormat: string): Promise<string> {
  const c = new JsonConverter();
  c.configure({ 'decimal.format': decimalFormat }, false);
  return (await c.fromConnectData('t', [], schema, value))!.toString('utf8');
}

/**
 * Floats are compared in the hand-picked cases only: JDK 17 (which runs Connect here) formats some
 * extreme doubles differently from JDK 19+ (whose shortest-digits rule we follow), e.g. 1.0E-323 vs
 * 9.9E-324 for the same double; and Java reads "-0.0" back as 0.0.
 */
function hasFloat(schema: Schema): boolean {
  if (schema.type === 'float32' || schema.type === 'float64') return true;
  return [schema.keySchema, schema.valueSchema, ...(schema.fields ?? []).map((f) => f.schema)].some(
    (s) => s !== undefined && hasFloat(s),
  );
}

/** Java reads maps into HashMaps, so only maps of at most one entry have a defined order to compare. */
function smallMaps(v: unknown): boolean {
  if (v instanceof Map) return v.size <= 1 && [...v.values()].every(smallMaps);
  if (Array.isArray(v)) return v.every(smallMaps);
  if (v instanceof Struct) return (v.schema.fields ?? []).every((f) => smallMaps(v.getWithoutDefault(f.name)));
  return true;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `ours …${a.slice(Math.max(0, i - 60), i + 40)}… java …${b.slice(Math.max(0, i - 60), i + 40)}…`;
}

async function expectSameAsJava(lines: string[], decimalFormat: string): Promise<void> {
  const java = await javaRewrites(lines, decimalFormat);
  const diffs = lines.flatMap((l, i) => (l === java[i] ? [] : [firstDifference(l, java[i] ?? '<no output>')]));
  expect(diffs).toEqual([]);
}

describe('JsonConverter output equals Kafka Connect JsonConverter 3.9.1 byte for byte', () => {
  const s = SchemaBuilder.struct()
    .name('erp.Shipment')
    .version(2)
    .doc('a shipment')
    .field('id', Schemas.INT64)
    .field('small', Schemas.INT8)
    .field('amount', DecimalType.schema(4, 18))
    .field('tiny', DecimalType.schema(10))
    .field('f', Schemas.FLOAT32)
    .field('d', Schemas.FLOAT64)
    .field('text', Schemas.OPTIONAL_STRING)
    .field('raw', Schemas.BYTES)
    .field('day', DateType.schema())
    .field('at', TimeType.schema())
    .field('ts', TimestampType.builder().optional().build())
    .field('qty', SchemaBuilder.int32().optional().defaultValue(1).build())
    .field('tags', SchemaBuilder.array(Schemas.STRING).build())
    .field('attrs', SchemaBuilder.map(Schemas.STRING, Schemas.OPTIONAL_FLOAT64).build())
    .build();
  const values = [
    [
      '9223372036854775807',
      '12345678901234.5678',
      '0.0000000001',
      0.1,
      1e21,
      'Grüße 東京 🚚 "q" \\ \u0001\u001f\b\f\n\r\t /',
    ],
    ['-9223372036854775808', '-0.0001', '-12345.6789012345', -3.4028234663852886e38, 1.7976931348623157e308, ''],
    ['0', '0.0000', '1.0000000000', 16777216, 123456789.123, 'plain'],
  ] as const;
  const records = values.map(([id, amount, tiny, f, d, text]) =>
    new Struct(s)
      .put('id', BigInt(id))
      .put('small', -128)
      .put('amount', Decimal.parse(amount))
      .put('tiny', Decimal.parse(tiny))
      .put('f', f)
      .put('d', d)
      .put('text', text)
      .put('raw', Buffer.from([0, 1, 254, 255]))
      .put('day', new Date(Date.UTC(2024, 1, 29)))
      .put('at', new Date(3_723_004))
      .put('ts', new Date(1_700_000_000_123))
      .put('tags', ['a', 'b'])
      .put('attrs', new Map([['k', 2.5]])),
  );

  for (const format of ['BASE64', 'NUMERIC']) {
    it(`every type, edge values and escapes (decimal.format=${format})`, async () => {
      const lines = await Promise.all(records.map((r) => ours(s, r, format)));
      await expectSameAsJava(lines, format);
    });

    it(`random schemas and values (decimal.format=${format})`, async () => {
      const samples = fc
        .sample(schemaAndValueArb(), { numRuns: 300 })
        .filter((x) => smallMaps(x.value) && !hasFloat(x.schema));
      expect(samples.length).toBeGreaterThan(100);
      const lines = await Promise.all(samples.map((x) => ours(x.schema, x.value, format)));
      await expectSameAsJava(lines, format);
    });
  }
});
