import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, sinkRecord, testContext } from './harness.js';

// The jdbc destination on PostgreSQL writes a batch as one UNNEST statement with an array per column: every column
// type must arrive as the origin holds it, and a value the column cannot take must fail as a bound value does.
const sfx = uniqueSuffix();
const schema = `ls_jdbc_types_${sfx}`;
let db: pg.Client;

const COLUMNS = `id int PRIMARY KEY, c char(3), b bit(3), vb varbit(8), v varchar(12), t text, n numeric(12,2),
  r real, d double precision, ts timestamp(6), tz timestamptz, day date, tm time, iv interval, ok boolean,
  u uuid, j jsonb, js json, raw bytea, ints int[], words text[], mood ${schema}.mood, dom ${schema}.pos`;

async function run(target: string, ids: number[], version: bigint, dlq: Reported[] = []): Promise<void> {
  const task = new LookupSinkTask();
  task.initialize(testContext({ dlq }));
  await task.start({
    'lookup.connection.url': requireEnv('PG_URL'),
    'lookup.table': `${schema}.src`,
    'lookup.key.columns': 'id',
    'entity.name': 'item',
    'destination.type': 'jdbc',
    'destination.name': `types_${target}`,
    'destination.table': `${schema}.${target}`,
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
  });
  try {
    await task.put(ids.map((id, i) => sinkRecord({ topic: 'items', offset: BigInt(i), key: id, version })));
    // The worker's commit path: a pipelined delivery's failure surfaces here, before any offset is committed.
    await task.flush();
  } finally {
    await task.stop();
  }
}

/** The rows of a table as text, so that every type compares exactly (json as jsonb: the driver parses json, so its
 * spacing is not kept by either form of the upsert). */
async function rows(table: string): Promise<string[]> {
  const r = await db.query<{ row: string }>(
    `SELECT x::text AS row FROM (SELECT ${COLUMNS_LIST} FROM ${table}) x ORDER BY id`,
  );
  return r.rows.map((x) => x.row);
}
const COLUMNS_LIST =
  'id, c, b, vb, v, t, n, r, d, ts, tz, day, tm, iv, ok, u, j, js::jsonb, raw, ints, words, mood, dom';

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TYPE ${schema}.mood AS ENUM ('sad', 'happy')`);
  await db.query(`CREATE DOMAIN ${schema}.pos AS int CHECK (VALUE > 0)`);
  await db.query(`CREATE TABLE ${schema}.src (${COLUMNS})`);
  await db.query(`CREATE TABLE ${schema}.dst (${COLUMNS}, erpstream_version numeric(20,0))`);
  await db.query(`CREATE TABLE ${schema}.dst_noarrays (${COLUMNS.replace(/, ints int\[\], words text\[\]/, '')},
    erpstream_version numeric(20,0))`);
  await db.query(
    `CREATE TABLE ${schema}.dst_short (id int PRIMARY KEY, v varchar(5), erpstream_version numeric(20,0))`,
  );
  await db.query(
    `INSERT INTO ${schema}.src VALUES
     (1, 'ab', B'101', B'1', 'a"b\\c', 'NULL', 1234567890.10, 1.5, 0.1, '2026-11-22 10:00:00.123456',
      '2026-11-22 12:00:00.5+02', '2026-11-22', '23:59:59.999999', '1 day 02:03:04', true,
      'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"k": [1, "x\\"y"]}', '{"k" : 1}', '\\x00ff5c22', '{1,NULL,3}',
      '{"a,b","c\\"d",NULL}', 'happy', 7),
     (2, NULL, NULL, NULL, '', '', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL, NULL, NULL,
      NULL, '{}', NULL, NULL),
     (3, 'xyz', B'000', B'11110000', '{x,"y"}', E'line\\nbreak\\ttab', -0.01, 'NaN', 'Infinity', '0001-01-01 00:00',
      '1970-01-01 00:00:00+00', '9999-12-31', '00:00', '-3 months', NULL, '00000000-0000-0000-0000-000000000000',
      '{"s": null}', '[]', '\\x', '{}', '{""}', 'sad', 1)`,
  );
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink jdbc destination on PostgreSQL: column types', () => {
  it('writes every type as the origin holds it, with and without array columns', async () => {
    await run('dst', [1, 2, 3], 5n);
    expect(await rows(`${schema}.dst`)).toEqual(await rows(`${schema}.src`));
    await run('dst_noarrays', [1, 2, 3], 5n);
    const cols = COLUMNS_LIST.replace(', ints, words', '');
    const txt = async (t: string) =>
      (await db.query<{ row: string }>(`SELECT x::text AS row FROM (SELECT ${cols} FROM ${t}) x ORDER BY id`)).rows;
    expect(await txt(`${schema}.dst_noarrays`)).toEqual(await txt(`${schema}.src`));
  });

  it('keeps the version guard: an older version leaves the row, a newer one overwrites it', async () => {
    await db.query(`UPDATE ${schema}.src SET v = 'older' WHERE id = 1`);
    await run('dst', [1], 4n);
    expect((await db.query(`SELECT v, erpstream_version::text AS ver FROM ${schema}.dst WHERE id = 1`)).rows).toEqual([
      { v: 'a"b\\c', ver: '5' },
    ]);
    await run('dst', [1], 6n);
    expect((await db.query(`SELECT v, erpstream_version::text AS ver FROM ${schema}.dst WHERE id = 1`)).rows).toEqual([
      { v: 'older', ver: '6' },
    ]);
  });

  it('fails a value too long for its column instead of cutting it', async () => {
    await db.query(`UPDATE ${schema}.src SET v = 'too long!' WHERE id = 3`);
    await expect(run('dst_short', [3], 7n)).rejects.toThrow(/too long/);
    expect((await db.query(`SELECT count(*)::int AS n FROM ${schema}.dst_short`)).rows).toEqual([{ n: 0 }]);
  });
});
