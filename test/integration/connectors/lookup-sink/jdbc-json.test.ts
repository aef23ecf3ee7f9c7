import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, sinkRecord, testContext } from './harness.js';

// json and jsonb values of every shape reach a jdbc destination as the origin holds them: a bare JSON string
// (once refused by the jsonb column: the driver's parsed 's' was bound as the text s), numbers beyond a double,
// booleans, JSON null (distinct from SQL NULL), unicode, and json's own spacing.
const sfx = uniqueSuffix();
const schema = `bugs_json_${sfx}`;
let db: pg.Client;
let my: mysql.Connection;

const SHAPES: Array<[id: number, json: string | null]> = [
  [1, '{"k": [1, "x\\"y"], "n": 1.10, "big": 12345678901234567890}'],
  [2, '[1, "two", null, {"a": false}]'],
  [3, '"s"'],
  [4, '"5"'],
  [5, '12345678901234567890.10'],
  [6, 'true'],
  [7, 'false'],
  [8, 'null'],
  [9, null],
  [10, '"é 😀 \\u2028 \\\\ tab\\t"'],
  [11, '{"ü":  "ß" ,  "k":1}'],
  [12, '""'],
];

function config(url: string, table: string, target: string): Record<string, string> {
  return {
    'lookup.connection.url': url,
    'lookup.table': table,
    'lookup.key.columns': 'id',
    'entity.name': 'doc',
    'destination.type': 'jdbc',
    'destination.name': `json_${target}`,
    'destination.table': target,
    'ledger.table': `${table}_ledger`,
    'park.table': `${table}_parked`,
    'park.check.interval.ms': '3600000',
  };
}

async function run(props: Record<string, string>): Promise<Reported[]> {
  const dlq: Reported[] = [];
  const task = new LookupSinkTask();
  task.initialize(testContext({ dlq }));
  await task.start(props);
  try {
    await task.put(SHAPES.map(([id], i) => sinkRecord({ topic: 'docs', offset: BigInt(i), key: id, version: 3n })));
  } finally {
    await task.stop();
  }
  return dlq;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.src (id int PRIMARY KEY, j jsonb, js json)`);
  await db.query(`CREATE TABLE ${schema}.dst (id int PRIMARY KEY, j jsonb, js json, erpstream_version numeric(20,0))`);
  for (const [id, json] of SHAPES)
    await db.query(`INSERT INTO ${schema}.src VALUES ($1, $2::text::jsonb, $3::text::json)`, [id, json, json]);
  // As text, so that JSON null and SQL NULL compare apart.
  my = await mysql.createConnection({ uri: requireEnv('MYSQL_URL'), jsonStrings: true });
  await my.query(`CREATE TABLE ${schema}_src (id int PRIMARY KEY, j json)`);
  await my.query(`CREATE TABLE ${schema}_dst (id int PRIMARY KEY, j json, erpstream_version decimal(20,0))`);
  for (const [id, json] of SHAPES) await my.query(`INSERT INTO ${schema}_src VALUES (?, ?)`, [id, json]);
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
  for (const t of ['src', 'dst', 'src_ledger', 'src_parked']) await my?.query(`DROP TABLE IF EXISTS ${schema}_${t}`);
  await my?.end();
});

describe('LookupSink jdbc destination: json values', () => {
  it('PostgreSQL: jsonb and json land identical to the origin, JSON null apart from SQL NULL', async () => {
    const dlq = await run(config(requireEnv('PG_URL'), `${schema}.src`, `${schema}.dst`));
    expect(dlq.map((r) => r.error)).toEqual([]);
    const text = async (table: string) =>
      (
        await db.query<{ id: number; j: string | null; js: string | null }>(
          `SELECT id, j::text AS j, js::text AS js FROM ${table} ORDER BY id`,
        )
      ).rows;
    const origin = await text(`${schema}.src`);
    expect(origin).toHaveLength(SHAPES.length);
    expect(await text(`${schema}.dst`)).toEqual(origin);
    // A check that the comparison itself tells the two nulls apart.
    expect(origin.filter((r) => r.id === 8 || r.id === 9)).toEqual([
      { id: 8, j: 'null', js: 'null' },
      { id: 9, j: null, js: null },
    ]);
  });

  it('MariaDB: JSON columns land identical to the origin', async () => {
    const dlq = await run(config(requireEnv('MYSQL_URL'), `${schema}_src`, `${schema}_dst`));
    expect(dlq.map((r) => r.error)).toEqual([]);
    const text = async (table: string) => (await my.query(`SELECT id, j FROM ${table} ORDER BY id`))[0];
    const origin = await text(`${schema}_src`);
    expect(origin).toHaveLength(SHAPES.length);
    expect(await text(`${schema}_dst`)).toEqual(origin);
    expect((origin as Array<{ id: number; j: string | null }>).filter((r) => r.id === 8 || r.id === 9)).toEqual([
      { id: 8, j: 'null' },
      { id: 9, j: null },
    ]);
  });
});
