import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeRecord, exactJson } from '../../../../connectors/lookup-sink/json.js';
import { entityIdOf, idOf, idText, parseVersion, versionOf } from '../../../../connectors/lookup-sink/record-fields.js';
import { DataError, Decimal, Headers, SchemaBuilder, type SinkRecord, Struct } from '../../../../runtime/api/index.js';

function rec(key: unknown, value: unknown = null, headers: Record<string, unknown> = {}): SinkRecord {
  return {
    topic: 't',
    kafkaPartition: 0,
    kafkaOffset: 5n,
    keySchema: null,
    key,
    valueSchema: null,
    value,
    timestamp: 1,
    timestampType: 'CreateTime',
    headers: Headers.of(headers),
    originalTopic: 't',
    originalKafkaPartition: 0,
    originalKafkaOffset: 5n,
  };
}

describe('entity id from a record', () => {
  it('reads primitive keys, structs and maps with the key columns, int64 exactly', () => {
    expect(entityIdOf(rec(42), ['id'], [])).toEqual(['42']);
    expect(entityIdOf(rec(9007199254740993n), ['id'], [])).toEqual(['9007199254740993']);
    const schema = SchemaBuilder.struct()
      .field('a', SchemaBuilder.int64().build())
      .field('b', SchemaBuilder.string().build())
      .build();
    const key = new Struct(schema).put('a', 1n).put('b', 'x');
    expect(entityIdOf(rec(key), ['b', 'a'], [])).toEqual(['x', '1']);
    expect(entityIdOf(rec({ person_id: 7 }), ['id'], [])).toEqual(['7']);
  });

  it('says which converter to use when a struct key arrives as StringConverter text', () => {
    expect(() => entityIdOf(rec('Struct{PHONE_ID=3}'), ['PHONE_ID'], [])).toThrow(
      /is the text "Struct\{PHONE_ID=3\}".*key\.converter=org\.apache\.kafka\.connect\.json\.JsonConverter/,
    );
    expect(entityIdOf(rec('Structure-7'), ['id'], [])).toEqual(['Structure-7']);
  });

  it('reads a field of a Debezium envelope (after, or before for deletes)', () => {
    expect(entityIdOf(rec(null, { op: 'u', before: null, after: { doc: 3 } }), ['document_id'], ['doc'])).toEqual([
      '3',
    ]);
    expect(entityIdOf(rec(null, { op: 'd', before: { doc: 4 }, after: null }), ['document_id'], ['doc'])).toEqual([
      '4',
    ]);
  });

  it('fails with a DataError that says what is missing', () => {
    expect(() => entityIdOf(rec(null), ['id'], [])).toThrow(/no key/);
    expect(() => entityIdOf(rec({ x: 1, y: 2 }), ['id'], [])).toThrow(DataError);
    expect(() => entityIdOf(rec(null, { op: 'u', after: {} }), ['id'], ['doc'])).toThrow(/lookup.id.field doc/);
  });

  it('round-trips compound ids through their stored text', () => {
    expect(idText(['1'])).toBe('1');
    expect(idOf(idText(['1', 'a"b']), 2)).toEqual(['1', 'a"b']);
  });
});

describe('entity id length', () => {
  it('refuses an id longer than the ledger holds (300 characters), naming where it came from and its length', () => {
    expect(entityIdOf(rec('k'.repeat(300)), ['id'], [])).toEqual(['k'.repeat(300)]);
    expect(() => entityIdOf(rec('k'.repeat(301)), ['id'], [])).toThrow(
      /^The entity id from the record key has 301 characters: at most 300 fit the ledger's entity_id \(varchar\(300\)\); it starts "kkkk/,
    );
    // A compound id is stored as its JSON text: that is what must fit.
    expect(() => entityIdOf(rec(null, { a: 'x'.repeat(150), b: 'y'.repeat(150) }), ['a', 'b'], ['a', 'b'])).toThrow(
      expect.objectContaining({
        code: 'ERPSTREAM_DATA',
        fieldPath: 'a',
        message: expect.stringMatching(/value fields a, b has 307 characters/),
      }),
    );
  });
});

describe('version from a record', () => {
  it('reads the header as text, Buffer, number or 0x-hex; or a field', () => {
    expect(versionOf(rec(1, null, { 'erpstream.version': '18446744073709551615' }), 'erpstream.version', null)).toBe(
      18446744073709551615n,
    );
    expect(versionOf(rec(1, null, { 'erpstream.version': Buffer.from('12') }), 'erpstream.version', null)).toBe(12n);
    expect(parseVersion(7, 'x')).toBe(7n);
    expect(parseVersion('0x00000000000007D1', 'x')).toBe(2001n);
    expect(versionOf(rec(1, { op: 'c', after: {}, source: { sequence: 33n } }), 'h', 'source.sequence')).toBe(33n);
  });

  it('refuses a missing or non-integer version', () => {
    expect(() => versionOf(rec(1), 'erpstream.version', null)).toThrow(/has no header erpstream.version/);
    expect(() => parseVersion('1.5', 'header v')).toThrow(DataError);
    expect(() => parseVersion(1.5, 'header v')).toThrow(/not an integer version/);
  });

  it('refuses a version the ledger cannot hold (more than 20 digits), naming it briefly, without reading it all', () => {
    expect(parseVersion('99999999999999999999', 'x')).toBe(10n ** 20n - 1n);
    expect(parseVersion(-(10n ** 20n) + 1n, 'x')).toBe(-(10n ** 20n) + 1n);
    expect(parseVersion('0xFFFFFFFFFFFFFFFF', 'x')).toBe(2n ** 64n - 1n);
    const start = performance.now();
    for (const [value, shown] of [
      ['100000000000000000000', '100000000000000000000'],
      [-(10n ** 20n), '-100000000000000000000'],
      [`0x${'f'.repeat(17)}`, `0x${'f'.repeat(17)}`],
      ['9'.repeat(1_000_000), '"9999999999999999999999999999999999999999"… (1000000 characters)'],
      [10n ** 100_000n, 'a 332196-bit integer'],
    ] as const) {
      expect(() => parseVersion(value, 'header v')).toThrow(
        expect.objectContaining({
          code: 'ERPSTREAM_DATA',
          fieldPath: 'header v',
          message: `header v is out of range: ${shown} (at most 20 digits, what the ledger's numeric(20,0) holds: every 64-bit sequence, LSN or rowversion fits); fix the version at its source`,
        }),
      );
    }
    expect(performance.now() - start).toBeLessThan(100);
  });

  it('reads header bytes the same way as their text, whatever their length or padding', () => {
    const cases = [
      '0',
      '7',
      '000123',
      '999999999999999',
      '1000000000000000',
      '18446744073709551615',
      ' 42 ',
      '+5',
      '0x7d1',
    ];
    for (const text of cases) {
      expect(parseVersion(Buffer.from(text), 'header v'), text).toBe(parseVersion(text, 'header v'));
      // A view into a larger buffer (as clients hand out header values) reads only its own bytes.
      const pooled = Buffer.from(`xx${text}yy`).subarray(2, 2 + Buffer.byteLength(text));
      expect(parseVersion(new Uint8Array(pooled.buffer, pooled.byteOffset, pooled.length), 'header v'), text).toBe(
        parseVersion(text, 'header v'),
      );
    }
    for (const bad of ['', '12a', '-', '1.5']) {
      expect(() => parseVersion(Buffer.from(bad), 'header v'), bad).toThrow(/header v is not an integer version/);
    }
  });
});

describe('JSON of rows and parked records', () => {
  it('writes int64 and decimals exactly', () => {
    expect(
      exactJson({ a: 9007199254740993n, b: '12.30', c: new Decimal(1230n, 2), d: Buffer.from('hi'), e: [1, null] }),
    ).toBe('{"a":9007199254740993,"b":"12.30","c":"12.30","d":"aGk=","e":[1,null]}');
  });

  it('writes flat rows exactly as the general path does (strings, numbers, booleans, nulls, unset fields)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.integer()),
        ),
        (row) => {
          const expected = `{${Object.entries(row)
            .map(
              ([k, v]) =>
                `${JSON.stringify(k)}:${v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? 'null' : JSON.stringify(v)}`,
            )
            .join(',')}}`;
          expect(exactJson(row)).toBe(expected);
        },
      ),
    );
  });

  it('keeps a parked record (key, value, headers, coordinates) across a restart', () => {
    const r = rec({ id: 5n }, { op: 'u', after: { n: Buffer.from([1, 2]) } }, { 'erpstream.version': '9' });
    const back = decodeRecord(encodeRecord(r));
    expect(back).toMatchObject({ topic: 't', kafkaPartition: 0, kafkaOffset: 5n, key: { id: 5n } });
    expect(back.value).toEqual({ op: 'u', after: { n: Buffer.from([1, 2]) } });
    expect(Headers.last(back.headers, 'erpstream.version')?.value).toBe('9');
  });
});
