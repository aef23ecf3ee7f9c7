import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DataError, Decimal } from '../../../../runtime/api/index.js';
import { MAX_JSON_DEPTH, MAX_JSON_NUMBER_LENGTH, parseJsonValueAt } from '../../../../runtime/api/exact-json.js';
import { JsonNumberText, parseJsonExact, stringifyJsonExact } from '../../../../runtime/converters/index.js';

describe('parseJsonExact', () => {
  it('keeps integers beyond 2^53 as exact bigints and safe ones as numbers', () => {
    expect(parseJsonExact('[9007199254740993, -9223372036854775808, 42, -0]')).toEqual([
      9007199254740993n,
      -9223372036854775808n,
      42,
      -0,
    ]);
  });

  it('keeps fractions and exponents as exact Decimals with the written scale', () => {
    const [a, b, c] = parseJsonExact('[12345678901234.5678, 1.50, 1e-3]') as Decimal[];
    expect(a).toEqual(new Decimal(123456789012345678n, 4));
    expect(b).toEqual(new Decimal(150n, 2));
    expect(c).toEqual(new Decimal(1n, 3));
  });

  it('refuses a number longer than Jackson does (1000 characters) with a DataError naming where, in linear time', () => {
    const digits = (n: number) => '9'.repeat(n);
    expect(parseJsonExact(digits(MAX_JSON_NUMBER_LENGTH))).toBe(BigInt(digits(MAX_JSON_NUMBER_LENGTH)));
    expect(parseJsonExact(`-0.${digits(MAX_JSON_NUMBER_LENGTH - 3)}`)).toBeInstanceOf(Decimal);
    const started = Date.now();
    for (const text of [
      digits(MAX_JSON_NUMBER_LENGTH + 1),
      `{"a":[1,-${digits(MAX_JSON_NUMBER_LENGTH)}]}`,
      `1.${digits(5_000_000)}`,
      `1e${digits(2_000)}`,
    ]) {
      expect(() => parseJsonExact(text)).toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_DATA',
          message: expect.stringMatching(/^Number of \d+ characters \(at most 1000, as Kafka Connect reads JSON\)/),
        }),
      );
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses nesting deeper than Jackson does (1000) with a DataError naming where, never a stack overflow', () => {
    const nested = (depth: number, open = '[', close = ']') => open.repeat(depth) + close.repeat(depth);
    expect(() => parseJsonExact(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => parseJsonExact(nested(MAX_JSON_DEPTH, '{"a":', '}').replace(/\{"a":\}/, '{"a":{}}'))).toThrow(
      /Nesting depth 1001/,
    );
    // Was a RangeError (Maximum call stack size exceeded), past the parser too when the stack happened to hold.
    for (const depth of [MAX_JSON_DEPTH + 1, 5_000, 500_000]) {
      for (const text of [nested(depth), nested(depth, '{"a":', '}'), `{"x":[${nested(depth)}]}`]) {
        expect(() => parseJsonExact(text)).toThrow(
          expect.objectContaining({
            code: 'ERPSTREAM_DATA',
            message: expect.stringMatching(
              /^Nesting depth 1001 at position \d+ \(line 1, column \d+\) exceeds the maximum allowed \(1000 arrays and objects, as in Kafka Connect's JsonConverter\): flatten/,
            ),
          }),
        );
      }
    }
    // A value parsed on its own counts what encloses it.
    expect(() => parseJsonValueAt(`x${nested(10)}`, 1, MAX_JSON_DEPTH - 10)).not.toThrow();
    expect(() => parseJsonValueAt(`x${nested(10)}`, 1, MAX_JSON_DEPTH - 9)).toThrow(/Nesting depth 1001/);
  });

  it('decodes escapes and unicode, and keeps "__proto__" as a plain key', () => {
    const v = parseJsonExact('{"s":"a\\u00e9\\n\\"\\\\\\/ 🚚","__proto__":{"x":1}}') as Record<string, unknown>;
    expect(v.s).toBe('aé\n"\\/ 🚚');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['s', '__proto__']);
  });

  it.each([
    ['{"a":}', /Unexpected character "}" at position 5 \(line 1, column 6\)/],
    ['[1,2', /Expected ',' or ']' \(end of input\) at position 4/],
    ['01', /Leading zero/],
    ['"abc', /Unterminated string/],
    ['{"a":1} x', /Unexpected trailing content "x" at position 8/],
    ['"\\x"', /Invalid escape/],
    ['1.', /Invalid number/],
    ['', /Unexpected end of JSON input/],
  ])('rejects %j with a positioned DataError', (text, message) => {
    expect(() => parseJsonExact(text)).toThrow(DataError);
    expect(() => parseJsonExact(text)).toThrow(message);
  });

  it('agrees with JSON.parse on any JSON text whose numbers are safe', () => {
    fc.assert(
      fc.property(fc.json({ noUnicodeString: false }), (text) => {
        const exact = parseJsonExact(text);
        const normalized = JSON.parse(
          stringifyJsonExact(exact, 0).replace(/^$/, 'null'),
          // Decimals print exactly; compare numerically with JSON.parse's view.
        );
        expect(normalized).toEqual(JSON.parse(JSON.stringify(JSON.parse(text))));
      }),
      { numRuns: 300 },
    );
  });
});

describe('stringifyJsonExact', () => {
  it('writes bigints, Decimals and preformatted numbers exactly', () => {
    expect(
      stringifyJsonExact({ a: 2n ** 64n, d: Decimal.parse('-0.0001'), f: new JsonNumberText('1.0E10'), u: undefined }),
    ).toBe('{"a":18446744073709551616,"d":-0.0001,"f":1.0E10}');
  });

  it('writes bytes as base64, Maps as objects in insertion order, and pretty-prints on request', () => {
    expect(
      stringifyJsonExact(
        new Map([
          ['b', Buffer.from([1, 2])],
          ['1', null],
        ]),
      ),
    ).toBe('{"b":"AQI=","1":null}');
    expect(stringifyJsonExact({ a: [1, { b: true }] }, 2)).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": true\n    }\n  ]\n}',
    );
  });

  it('refuses NaN instead of writing invalid JSON', () => {
    expect(() => stringifyJsonExact(NaN)).toThrow(DataError);
  });

  it('round-trips any bigint exactly', () => {
    fc.assert(
      fc.property(fc.bigInt(), (n) => {
        const parsed = parseJsonExact(stringifyJsonExact(n));
        const safe = n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER);
        expect(typeof parsed).toBe(safe ? 'number' : 'bigint');
        expect(BigInt(parsed as number | bigint)).toBe(n);
      }),
    );
  });
});
