import { describe, expect, it } from 'vitest';
import type { Struct } from '../../../../../runtime/api/index.js';
import type { AvroConverter } from '../../../../../runtime/converters/index.js';
import { MAX_EMPTY_ITEMS } from '../../../../../runtime/converters/avro/avsc-types.js';
import { readerFor, varint } from '../poison-helpers.js';

const framed = (body: Iterable<number> | Buffer) =>
  Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), Buffer.from([...body])]);
const record = (type: object) => ({ type: 'record', name: 'R', fields: [{ name: 'a', type }] });

async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; result: T | undefined; error: unknown }> {
  const start = performance.now();
  try {
    const result = await f();
    return { ms: performance.now() - start, result, error: undefined };
  } catch (error) {
    return { ms: performance.now() - start, result: undefined, error };
  }
}

describe('AvroConverter with hostile records and registry schemas (poison records)', () => {
  it('refuses an array or map block claiming more items than the bytes left hold, at once, naming the count', async () => {
    const ints = readerFor(record({ type: 'array', items: 'int' }));
    const strings = readerFor(record({ type: 'map', values: 'string' }));
    const cases: Array<[AvroConverter, number[], RegExp]> = [
      // Were read item after item past the end (zeros), then "truncated buffer": 30,000,000 took ~0.4 s and 240 MB.
      [
        ints,
        [...varint(30_000_000), 0],
        /array block claims 30000000 items, but the 1 bytes left of the record hold at most 1/,
      ],
      [ints, [...varint(-30_000_000), 2, 0], /array block claims 30000000 items/],
      [
        strings,
        [...varint(10_000_000), 0],
        /map block claims 10000000 items, but the 1 bytes left .* at most 0 \(an item takes at least 2\)/,
      ],
      // 2^31 items: out of memory (the worker ended); 2^40 map entries: the thread held for hours.
      [ints, [...varint(2 ** 31), 0], /claims 2147483648 items/],
      [strings, [...varint(2 ** 40), 0], /claims 1099511627776 items/],
      [ints, [...varint(2 ** 62), 0], /claims/],
    ];
    for (const [c, body, message] of cases) {
      const { ms, error } = await timed(() => c.toConnectData('t', [], framed(body)));
      expect(error).toMatchObject({ code: 'ERPSTREAM_DATA' });
      expect((error as Error).message).toMatch(
        /^Cannot read Avro data with schema id 7 in value of topic "t": An Avro /,
      );
      expect((error as Error).message).toMatch(message);
      expect(ms).toBeLessThan(100);
    }
  });

  it('bounds items of zero bytes (records without fields) per record, where bytes cannot', async () => {
    const empties = readerFor(record({ type: 'array', items: { type: 'record', name: 'E', fields: [] } }));
    const ok = await empties.toConnectData('t', [], framed([...varint(1000), 0]));
    expect(((ok.value as Struct).get('a') as unknown[]).length).toBe(1000);
    // Were read: 1,000,000 took ~0.6 s and 40 MB, 2^31 the worker's memory.
    for (const body of [
      [...varint(MAX_EMPTY_ITEMS + 1), 0],
      [...varint(MAX_EMPTY_ITEMS), ...varint(1), 0],
      [...varint(2 ** 31), 0],
    ]) {
      const { ms, error } = await timed(() => empties.toConnectData('t', [], framed(body)));
      expect(error).toMatchObject({ code: 'ERPSTREAM_DATA' });
      expect((error as Error).message).toMatch(/claims more than 100000 array items of zero bytes/);
      expect(ms).toBeLessThan(200);
    }
  });

  it('still reads arrays and maps in several blocks, with and without sizes, and keeps "__proto__" as a map key', async () => {
    const schema = {
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: { type: 'array', items: 'long' } },
        { name: 'm', type: { type: 'map', values: { type: 'array', items: 'string' } } },
      ],
    };
    const c = readerFor(schema);
    // a: two blocks (2 items, then 1 with its size in bytes); m: one entry per block.
    const body = [
      ...varint(2),
      2,
      4,
      ...varint(-1),
      1,
      6,
      0,
      ...varint(1),
      2,
      0x78,
      ...varint(1),
      2,
      0x70,
      0,
      ...varint(1),
      18,
      ...Buffer.from('__proto__'),
      ...varint(1),
      2,
      0x71,
      0,
      0,
    ];
    const v = (await c.toConnectData('t', [], framed(body))).value as Struct;
    expect(v.get('a')).toEqual([1n, 2n, 3n]);
    const m = v.get('m') as Map<string, unknown>;
    expect([...m.keys()]).toEqual(['x', '__proto__']);
    expect(m.get('__proto__')).toEqual(['q']);
  });

  it('refuses a recursive registry schema with a SchemaError naming the record and the id (was a stack overflow)', async () => {
    const node = { type: 'record', name: 'Node', namespace: 'x', fields: [{ name: 'next', type: ['null', 'Node'] }] };
    const tree = {
      type: 'record',
      name: 'Tree',
      fields: [{ name: 'children', type: { type: 'array', items: 'Tree' } }],
    };
    for (const schema of [node, tree]) {
      const { ms, error } = await timed(() => readerFor(schema).toConnectData('t', [], framed([0])));
      expect(error).toMatchObject({
        code: 'ERPSTREAM_SCHEMA',
        message: expect.stringMatching(
          /^Cannot read records of schema id 7 \(http:\/\/127\.0\.0\.1:1\/apis\/ccompat\/v7\): Avro record "x?\.?(Node|Tree)" contains itself/,
        ),
      });
      expect(ms).toBeLessThan(100);
    }
    // A schema avsc refuses is the same kind of error, with the id (was avsc's bare Error).
    const { error } = await timed(() =>
      readerFor({ type: 'record', name: 'R', fields: [{ name: 'a-b', type: 'int' }] }).toConnectData(
        't',
        [],
        framed([0]),
      ),
    );
    expect(error).toMatchObject({ code: 'ERPSTREAM_SCHEMA', message: expect.stringMatching(/schema id 7/) });
  });

  it('refuses a timestamp-millis or date beyond what JavaScript holds, naming it with the schema id', async () => {
    const ts = readerFor(record({ type: 'long', logicalType: 'timestamp-millis' }));
    const date = readerFor(record({ type: 'int', logicalType: 'date' }));
    expect(((await ts.toConnectData('t', [], framed(varint(1_000)))).value as Struct).get('a')).toEqual(new Date(1000));
    // Were Invalid Dates, written back as an uncoded RangeError.
    for (const [c, body, message] of [
      [ts, [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'Timestamp 9223372036854775807 (ms)'],
      [date, varint(2 ** 31 - 1), 'Date 2147483647 (days)'],
    ] as const) {
      await expect(c.toConnectData('t', [], framed(body))).rejects.toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_DATA',
          message: `Cannot read Avro data with schema id 7 in value of topic "t": ${message} is beyond the dates JavaScript can hold (8640000000000000 ms either way of 1970, years -271821 to 275760); fix the value at its source, or let errors.tolerance=all route the record to the dead letter queue`,
        }),
      );
    }
  });
});
