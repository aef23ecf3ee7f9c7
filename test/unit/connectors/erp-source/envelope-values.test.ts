import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { DataError, type SourceRecord, Struct, structValuesOf } from '../../../../runtime/api/index.js';
import { JsonConverter } from '../../../../runtime/converters/index.js';
import { pgColumn } from '../../../../connectors/erp-source/dialects/postgres.js';
import {
  type EventInput,
  buildTableSchemas,
  changeEvent,
  changeEventValues,
  keyOnlyRow,
  keyOnlyValues,
  keyStruct,
  rowStruct,
  rowValues,
  tombstoneFor,
  tombstoneOf,
} from '../../../../connectors/erp-source/envelope.js';
import type { RawRow, TableInfo } from '../../../../connectors/erp-source/model.js';

/**
 * The streaming path builds events from StructValues (changeEventValues) and the worker writes a JSON value straight
 * from them; the events and bytes must be exactly those of the Struct path (changeEvent), for any row PostgreSQL can
 * return: nulls, decimals of any size and sign, timestamps of any precision and zone, unicode, jsonb, deletes.
 */

const COLUMNS: Array<[string, string, number | null, number | null]> = [
  ['id', 'bigint', null, null],
  ['small', 'smallint', null, null],
  ['int', 'integer', null, null],
  ['big', 'bigint', null, null],
  ['amount', 'numeric', 19, 4],
  ['weight', 'numeric', 12, 0],
  ['ratio', 'numeric', null, null],
  ['r', 'real', null, null],
  ['d', 'double precision', null, null],
  ['ok', 'boolean', null, null],
  ['day', 'date', null, null],
  ['at', 'time without time zone', null, null],
  ['created', 'timestamp without time zone', null, null],
  ['updated', 'timestamp with time zone', null, null],
  ['blob', 'bytea', null, null],
  ['uid', 'uuid', null, null],
  ['doc', 'jsonb', null, null],
  ['name', 'character varying', null, null],
  ['1', 'text', null, null],
];

const TABLE: TableInfo = {
  id: { schema: 'erp', table: 'orders' },
  columns: COLUMNS.map(([name, type, p, s]) => pgColumn(name, type, true, name === 'id', p, s)),
  keyColumns: ['id'],
};
const SCHEMAS = buildTableSchemas('shop', TABLE);

const digits = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const int = (bits: number) =>
  fc.bigInt({ min: -(1n << BigInt(bits - 1)), max: (1n << BigInt(bits - 1)) - 1n }).map(String);
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const date = fc
  .record({
    y: fc.integer({ min: 1, max: 9999 }),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 28 }),
  })
  .map(({ y, m, d }) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`);
const time = fc
  .record({
    h: fc.integer({ min: 0, max: 23 }),
    m: fc.integer({ min: 0, max: 59 }),
    s: fc.integer({ min: 0, max: 59 }),
    f: fc.option(digits(1, 6), { nil: undefined }),
  })
  .map(({ h, m, s, f }) => `${pad(h)}:${pad(m)}:${pad(s)}${f === undefined ? '' : `.${f}`}`);
const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('', 'ä"\\\n\t\u0000\u2028😀'));
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null, freq: 4 });

/** Raw values as PostgreSQL prints them in a UTC session (the dialect reads every column as text, bytea as bytes). */
const rowArb: fc.Arbitrary<RawRow> = fc.record({
  id: int(64),
  small: nullable(int(16)),
  int: nullable(int(32)),
  big: nullable(int(64)),
  amount: nullable(
    fc.tuple(fc.boolean(), digits(1, 15), digits(4, 4)).map(([neg, i, f]) => `${neg ? '-' : ''}${i}.${f}`),
  ),
  weight: nullable(fc.tuple(fc.boolean(), digits(1, 12)).map(([neg, i]) => `${neg ? '-' : ''}${i}`)),
  ratio: nullable(
    fc
      .tuple(fc.boolean(), digits(1, 30), digits(0, 20))
      .map(([neg, i, f]) => `${neg ? '-' : ''}${i}${f ? `.${f}` : ''}`),
  ),
  r: nullable(fc.float({ noNaN: true, noDefaultInfinity: true }).map(String)),
  d: nullable(
    fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.constantFrom('NaN', 'Infinity')),
  ),
  ok: nullable(fc.constantFrom('t', 'f')),
  day: nullable(date),
  at: nullable(time),
  created: nullable(fc.tuple(date, time).map(([d, t]) => `${d} ${t}`)),
  updated: nullable(
    fc
      .tuple(date, time, fc.constantFrom('+00', '+02', '-05:30', '+00:00'))
      .map(([d, t, z]) => `${d.startsWith('0') ? '2020-01-01' : d} ${t}${z}`),
  ),
  blob: nullable(fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b))),
  uid: nullable(fc.uuid()),
  doc: nullable(fc.jsonValue().map((v) => JSON.stringify(v))),
  name: nullable(text),
  '1': nullable(text),
});

const eventArb = fc.record({
  row: rowArb,
  op: fc.constantFrom('c' as const, 'u' as const, 'd' as const),
  seq: fc.bigInt({ min: 1n, max: (1n << 62n) - 1n }),
  txId: fc.option(fc.bigInt({ min: 3n, max: 1n << 40n }), { nil: undefined }),
  tsMs: fc.integer({ min: 1, max: 4_102_444_800_000 }),
  snapshot: fc.constantFrom('false' as const, 'true' as const, 'last' as const),
});

type EventCase = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function inputOf(e: EventCase): Omit<EventInput, 'before' | 'after'> {
  const version = String(e.seq);
  return {
    schemas: SCHEMAS,
    db: 'erp',
    prefix: 'shop',
    op: e.op,
    key: keyStruct(SCHEMAS, [e.row.id]),
    version,
    eventId: `erp:erp.orders:${version}`,
    sourceTsMs: e.tsMs,
    snapshot: e.snapshot,
    changeSeq: e.seq,
    ...(e.txId === undefined ? {} : { txId: e.txId }),
    partition: { server: 'shop', table: 'erp.orders' },
    offset: { stream: { kind: 'gaps', seq: version, gaps: [] } },
    nowMs: e.tsMs + 5,
  };
}

/** The same event both ways, or the error both ways give (a value the Struct path rejects). */
function both(e: EventCase): [SourceRecord, SourceRecord] | null {
  const input = inputOf(e);
  let old: SourceRecord | string;
  let now: SourceRecord | string;
  try {
    old = changeEvent({
      ...input,
      before: e.op === 'd' ? keyOnlyRow(SCHEMAS, [e.row.id]) : null,
      after: e.op === 'd' ? null : rowStruct(SCHEMAS, e.row),
    });
  } catch (err) {
    old = `${(err as Error).name}: ${(err as Error).message}`;
  }
  try {
    now = changeEventValues({
      ...input,
      before: e.op === 'd' ? keyOnlyValues(SCHEMAS, [e.row.id]) : null,
      after: e.op === 'd' ? null : rowValues(SCHEMAS, e.row),
    });
  } catch (err) {
    now = `${(err as Error).name}: ${(err as Error).message}`;
  }
  if (typeof old === 'string' || typeof now === 'string') {
    expect(now).toEqual(old);
    return null;
  }
  return [old, now];
}

const CONFIGS: Array<Record<string, string>> = [];
for (const schemas of ['true', 'false'])
  for (const format of ['BASE64', 'NUMERIC'])
    for (const replace of ['true', 'false'])
      CONFIGS.push({ 'schemas.enable': schemas, 'decimal.format': format, 'replace.null.with.default': replace });

describe('ErpSource events from StructValues', () => {
  it('write the same JSON bytes as the Struct events, for random rows and every JsonConverter setting', () => {
    const convs = CONFIGS.map((props) => {
      const c = new JsonConverter();
      c.configure(props, false);
      return [JSON.stringify(props), c] as const;
    });
    fc.assert(
      fc.property(eventArb, (e) => {
        const pair = both(e);
        if (pair === null) return;
        const [old, now] = pair;
        const values = structValuesOf(now);
        expect(values).toBeDefined();
        for (const [name, c] of convs) {
          const expected = c.fromConnectDataSync(old.topic, old.headers, old.valueSchema, old.value);
          // Written by the compiled path from the values themselves, not by the fallback through a built Struct.
          const generic = vi.spyOn(c, 'serializeGeneric');
          const actual = c.fromConnectDataSync(now.topic, now.headers, now.valueSchema, values);
          expect(generic, name).not.toHaveBeenCalled();
          generic.mockRestore();
          expect(actual?.toString('utf8'), name).toEqual(expected?.toString('utf8'));
        }
      }),
      { numRuns: 400 },
    );
  });

  it('are the same records: fields, value Struct, copies and tombstones', () => {
    fc.assert(
      fc.property(eventArb, (e) => {
        const pair = both(e);
        if (pair === null) return;
        const [old, r] = pair;
        // Read twice: the Struct is built once.
        expect(r.value).toBeInstanceOf(Struct);
        expect(r.value).toBe(r.value);
        expect(r.value).toEqual(old.value);
        expect(r).toEqual(old);
        expect(Object.keys(r)).toEqual(Object.keys(old));
        // A transform's copy carries the Struct, and nothing of the values.
        const copy = { ...r };
        expect(copy.value).toBe(r.value);
        expect(structValuesOf(copy)).toBeUndefined();
        expect(tombstoneOf(r)).toEqual(tombstoneFor(old));
      }),
      { numRuns: 200 },
    );
  });

  it('fail the poll on a bad column value with the same error, naming the column', () => {
    const row = { ...fc.sample(rowArb, 1)[0]!, amount: '12.34.56' };
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e;
      }
      return null;
    };
    const old = message(() => rowStruct(SCHEMAS, row)) as DataError;
    const now = message(() => rowValues(SCHEMAS, row)) as DataError;
    expect(now).toBeInstanceOf(DataError);
    expect(now.message).toBe(old.message);
    expect(now.message).toContain('erp.orders.amount');
  });
});
