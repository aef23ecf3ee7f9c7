import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Converter } from '../../../runtime/api/index.js';
import { builtinRegistry } from '../../../bundle/builtin.js';

/**
 * Byte-for-byte comparison with Kafka Connect's own primitive converters (connect-runtime 3.9.1, the jars the
 * local stack runs Connect with): Java and we serialize the same values and read the same bytes.
 * ERPSTREAM_SEEDS scales the random sample (default 200 values per type).
 */
const stackDir = process.env.ERPSTREAM_STACK_DIR?.trim();
if (!stackDir)
  throw new Error('ERPSTREAM_STACK_DIR is not set: eval "$(scripts/stack env)" (it locates the Connect jars)');
const classpath = `${stackDir}/lib/connect/*`;
if (!existsSync(`${stackDir}/lib/connect`))
  throw new Error(`No Connect jars under ${stackDir}/lib/connect: run scripts/stack up`);
const oracle = fileURLToPath(new URL('./java/PrimitiveConvertersOracle.java', import.meta.url));
const SAMPLE = Number(process.env.ERPSTREAM_SEEDS ?? 200);

async function java(lines: string[]): Promise<string[]> {
  const run = promisify(execFile);
  const child = run('java', ['-cp', classpath, oracle], { maxBuffer: 1 << 26 });
  child.child.stdin!.end(`${lines.join('\n')}\n`);
  const { stdout } = await child;
  return stdout.split('\n').slice(0, lines.length);
}

const TYPES = ['Short', 'Integer', 'Long', 'Float', 'Double', 'Boolean'] as const;
type T = (typeof TYPES)[number];

function converter(type: T): Converter {
  const c = builtinRegistry().get('converter', `org.apache.kafka.connect.converters.${type}Converter`).create();
  void c.configure({}, false); // synchronous for the primitive converters
  return c;
}

/** The Connect value for a Java literal, as our data model holds it. */
function value(type: T, text: string): unknown {
  if (type === 'Long') return BigInt(text);
  if (type === 'Boolean') return text === 'true';
  if (type === 'Float' || type === 'Double') return Number(text);
  return Number(text);
}

const javaNumber = (n: number) =>
  Number.isNaN(n)
    ? 'NaN'
    : n === Infinity
      ? 'Infinity'
      : n === -Infinity
        ? '-Infinity'
        : Object.is(n, -0)
          ? '-0.0'
          : String(n);

const EDGES: Record<T, string[]> = {
  Short: ['0', '-1', '32767', '-32768', '42'],
  Integer: ['0', '-1', '2147483647', '-2147483648', '123456789'],
  Long: ['0', '-1', '9223372036854775807', '-9223372036854775808', '9007199254740993'],
  Float: ['0.0', '-0.0', '0.1', '3.4028235E38', '1.4E-45', 'NaN', 'Infinity', '-Infinity', '16777217'],
  Double: ['0.0', '-0.0', '0.1', '1.7976931348623157E308', '4.9E-324', 'NaN', 'Infinity', '-Infinity'],
  Boolean: ['true', 'false'],
};

function randomValues(type: T): string[] {
  const arb: fc.Arbitrary<string> =
    type === 'Short'
      ? fc.integer({ min: -32768, max: 32767 }).map(String)
      : type === 'Integer'
        ? fc.integer().map(String)
        : type === 'Long'
          ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String)
          : type === 'Float'
            ? fc.float({ noNaN: true }).map((f) => javaNumber(Math.fround(f)))
            : type === 'Double'
              ? fc.double({ noNaN: true }).map(javaNumber)
              : fc.boolean().map(String);
  return fc.sample(arb, SAMPLE);
}

/** Our reading of some bytes, in the oracle's words ("INT32 42", "ERROR DataError"), and the value itself. */
async function ourRead(c: Converter, hex: string): Promise<{ text: string; value?: unknown }> {
  try {
    const sv = await c.toConnectData('t', [], Buffer.from(hex, 'hex'));
    return { text: `${sv.schema!.type.toUpperCase()} ${String(sv.value)}`, value: sv.value };
  } catch (e) {
    return { text: `ERROR ${(e as Error).name}` };
  }
}

describe('primitive converters write and read the bytes Connect 3.9.1 does', () => {
  it('Short, Integer, Long, Float, Double and Boolean converters, edge cases and a random sample', async () => {
    const texts = TYPES.map((type) => [...EDGES[type], ...randomValues(type)]);
    // One JVM for all writes, one for all reads: each start costs seconds.
    const written = await java(TYPES.flatMap((type, i) => texts[i]!.map((t) => `ser ${type} ${t}`)));
    const hexes = TYPES.map((type, i) => {
      const mine = written.splice(0, texts[i]!.length);
      return [...mine, '', '00', '0001020304050607ff', ...(type === 'Boolean' ? ['02', 'ff'] : [])];
    });
    const read = await java(TYPES.flatMap((type, i) => hexes[i]!.map((h) => `de ${type} ${h}`)));

    for (const [i, type] of TYPES.entries()) {
      const c = converter(type);
      const ours = await Promise.all(
        texts[i]!.map(async (t) => (await c.fromConnectData('t', [], null, value(type, t)))!),
      );
      const javaHex = hexes[i]!.slice(0, texts[i]!.length);
      expect(
        ours.map((b) => b.toString('hex')),
        `${type}Converter writes`,
      ).toEqual(javaHex);

      // Reading: every written value, plus sizes Kafka's deserializers refuse and (for booleans) bytes other than 0/1.
      for (const hex of hexes[i]!) {
        const expected = read.shift()!;
        const mine = await ourRead(c, hex);
        const what = `${type}Converter reads ${hex}`;
        if (expected.startsWith('ERROR')) expect(mine.text, what).toMatch(/^ERROR/);
        else if (type === 'Float' || type === 'Double') {
          // Java prints floats its own way (0.1 vs 0.10000000149011612 for one float): compare the numbers.
          const [schema, text] = expected.split(' ') as [string, string];
          expect(mine.text.split(' ')[0], what).toBe(schema);
          const want = type === 'Float' ? Math.fround(Number(text)) : Number(text);
          expect(Object.is(mine.value, want), `${what}: ${String(mine.value)} vs ${text}`).toBe(true);
        } else expect(mine.text, what).toBe(expected);
      }
    }
  });
});
