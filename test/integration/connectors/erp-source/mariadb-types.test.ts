import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Struct } from '../../../../runtime/api/index.js';
import { type DbFixture, TaskHarness, envelope, events, keyOf, mysqlFixture, sourceProps } from './harness.js';

/**
 * MariaDB type fidelity (issue 12 item 4): FLOAT came out with the text protocol's 6 significant digits, and JSON
 * was parsed and re-serialized (big numbers rounded, the JSON string "str" became str, JSON null became NULL).
 * Each value is checked on both read paths: the snapshot (chunk) and the stream (rows read by key).
 */
const FLOATS = [3.4028234663852886e38, -3.4028234663852886e38, 1.1754943508222875e-38, 0.1, 16777217, 123.456, 0];
const DOUBLES = [1.7976931348623157e308, -2.2250738585072014e-308, 5e-324, 0.1, 2 ** 53 + 2, 1 / 3, -0.5];
const JSONS = [
  '{"big": 12345678901234567890123, "price": 1.10, "small": 1e-400}',
  '"str"',
  'null',
  '[1, "two", {"three": [3.000]}]',
  '12345678901234567890',
  'true',
];

describe('ErpSource MariaDB type fidelity: FLOAT and DOUBLE exact, JSON as its text', () => {
  let db: DbFixture;
  const harnesses: TaskHarness[] = [];
  const q = (t: string) => `\`${db.schema}\`.\`${t}\``;

  beforeAll(async () => {
    db = await mysqlFixture();
    await db.createCaptured('typed', 'id int PRIMARY KEY, f FLOAT, d DOUBLE, j JSON, f2 FLOAT(7,3)');
  });
  afterAll(async () => {
    for (const h of harnesses) await h.stop().catch(() => {});
    await db?.close();
  });

  const rows = Math.max(FLOATS.length, DOUBLES.length, JSONS.length);
  const insert = async (offset: number): Promise<void> => {
    for (let i = 0; i < rows; i++) {
      await db.exec(`INSERT INTO ${q('typed')} (id, f, d, j, f2) VALUES (?, ?, ?, ?, ?)`, [
        offset + i,
        FLOATS[i] ?? null,
        DOUBLES[i] ?? null,
        JSONS[i] ?? null,
        i === 0 ? 1234.567 : null,
      ]);
    }
    await db.exec(`INSERT INTO ${q('typed')} (id) VALUES (?)`, [offset + rows]); // all NULL
  };

  function check(after: Map<number, Struct>, offset: number): void {
    for (let i = 0; i < rows; i++) {
      const r = after.get(offset + i)!;
      if (FLOATS[i] !== undefined) expect(r.get('f'), `FLOAT ${FLOATS[i]}`).toBe(Math.fround(FLOATS[i]!));
      if (DOUBLES[i] !== undefined) expect(r.get('d'), `DOUBLE ${DOUBLES[i]}`).toBe(DOUBLES[i]);
      if (JSONS[i] !== undefined) expect(r.get('j'), `JSON ${JSONS[i]}`).toBe(JSONS[i]);
    }
    expect(after.get(offset)!.get('f2')).toBe(Math.fround(1234.567));
    const nulls = after.get(offset + rows)!;
    for (const c of ['f', 'd', 'j', 'f2']) expect(nulls.get(c), `${c} NULL`).toBeNull();
    const schemaOf = (f: string) => nulls.schema.fields!.find((x) => x.name === f)!.schema;
    expect(schemaOf('f').type).toBe('float32');
    expect(schemaOf('d').type).toBe('float64');
    expect(schemaOf('j').name).toBe('io.debezium.data.Json');
  }

  it('emits the stored values on the snapshot and on the stream', async () => {
    await insert(100);
    const h = new TaskHarness(sourceProps(db, { 'table.include.list': `${db.schema}\\.typed` }));
    harnesses.push(h);
    await h.start();
    const snap = await h.pollUntil((all) => events(all).length >= rows + 1);
    check(new Map(events(snap).map((r) => [Number(keyOf(r)), envelope(r).after!])), 100);
    await insert(200);
    const stream = await h.pollUntil((all) => events(all).length >= rows + 1);
    expect(events(stream).every((r) => envelope(r).op === 'c')).toBe(true);
    check(new Map(events(stream).map((r) => [Number(keyOf(r)), envelope(r).after!])), 200);
  });
});
