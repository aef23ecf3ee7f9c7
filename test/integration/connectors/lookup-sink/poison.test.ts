import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import type { SinkRecord } from '../../../../runtime/api/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, type Reported, recording, sinkRecord, testContext } from './harness.js';

// One id the batched lookup cannot take must not fail the task: it is isolated (the batch is split), sent to the
// DLQ with the database's reason, and the rest of the batch is delivered. PostgreSQL refuses such ids (22P02,
// 22003); MariaDB coerces them ('abc' = 0, '2abc' = 2, '02' = 2), which must be caught the same way.
const sfx = uniqueSuffix();
const schema = `ls_poison_${sfx}`;
const t = (name: string) => `ls_poison_${name}_${sfx}`;
let pgc: pg.Client;
let my: mysql.Connection;

beforeAll(async () => {
  pgc = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await pgc.connect();
  await pgc.query(`CREATE SCHEMA ${schema}`);
  await pgc.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL)`);
  await pgc.query(`CREATE TABLE ${schema}.registered (document_id int PRIMARY KEY)`);
  await pgc.query(
    `CREATE TABLE ${schema}.document_out (document_id int PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
  );
  await pgc.query(`INSERT INTO ${schema}.document SELECT g, 'doc ' || g FROM generate_series(1, 40) g`);
  await pgc.query(`INSERT INTO ${schema}.registered SELECT g FROM generate_series(1, 40) g`);
  my = await mysql.createConnection({ uri: requireEnv('MYSQL_URL') });
  await my.query(`CREATE TABLE ${t('document')} (document_id INT PRIMARY KEY, title VARCHAR(50) NOT NULL)`);
  await my.query(
    `CREATE TABLE ${t('document_out')} (document_id INT PRIMARY KEY, title VARCHAR(50), erpstream_version DECIMAL(20,0))`,
  );
  await my.query(
    `INSERT INTO ${t('document')} VALUES ${Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'doc ${i + 1}')`)}`,
  );
});

afterAll(async () => {
  await pgc.query(`DROP SCHEMA ${schema} CASCADE`);
  await pgc.end();
  for (const name of ['document', 'document_out', 'ledger', 'parked'])
    await my.query(`DROP TABLE IF EXISTS ${t(name)}`);
  await my.end();
});

/** 40 good ids with the bad ones spread among them, versions 100+offset. */
function batch(topic: string, bad: readonly string[]) {
  const keys: Array<number | string> = Array.from({ length: 40 }, (_, i) => i + 1);
  bad.forEach((b, i) => keys.splice(5 + i * 11, 0, b));
  return keys.map((key, i) => sinkRecord({ topic, offset: BigInt(i), key, version: BigInt(100 + i) }));
}

async function run(
  props: Record<string, string>,
  topic: string,
  bad: readonly string[],
  records: SinkRecord[] = batch(topic, bad),
) {
  const dlq: Reported[] = [];
  const log: DeliveryEvent[] = [];
  const task = new LookupSinkTask({ wrapDestination: recording(log) });
  task.initialize(testContext({ dlq }));
  await task.start(props);
  try {
    await task.put(records);
    await task.flush(); // put() may return while a pipelined batch is still written
    const m = task.metrics();
    return { dlq, log, metrics: m };
  } finally {
    await task.stop();
  }
}

describe('LookupSink poison isolation', () => {
  it('an id longer than the ledger holds (300 characters) goes to the DLQ naming its length; the rest is delivered', async () => {
    // The ledger's and the park table's entity_id are varchar(300): a longer id failed their write for the whole batch
    // (22001), and the task restarted into the same record for ever. One such id is in the origin (it would be
    // delivered), one is not (it would be parked).
    const long = 'k'.repeat(301);
    await pgc.query(`CREATE TABLE ${schema}.named (name text PRIMARY KEY, title text NOT NULL)`);
    await pgc.query(`INSERT INTO ${schema}.named SELECT 'n' || g, 'doc ' || g FROM generate_series(1, 40) g`);
    await pgc.query(`INSERT INTO ${schema}.named VALUES ($1, 'long')`, [long]);
    await pgc.query(
      `CREATE TABLE ${schema}.named_out (name text PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
    );
    const records = Array.from({ length: 40 }, (_, i) =>
      sinkRecord({ topic: 'named', offset: BigInt(i), key: `n${i + 1}`, version: BigInt(100 + i) }),
    );
    records.splice(5, 0, sinkRecord({ topic: 'named', offset: 100n, key: long, version: 1n }));
    records.splice(25, 0, sinkRecord({ topic: 'named', offset: 101n, key: 'm'.repeat(100_000), version: 1n }));
    const { dlq, log } = await run(
      {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.table': `${schema}.named`,
        'lookup.key.columns': 'name',
        'entity.name': 'named',
        'destination.type': 'jdbc',
        'destination.name': `named_${sfx}`,
        'destination.table': `${schema}.named_out`,
        'ledger.table': `${schema}.named_ledger`,
        'park.table': `${schema}.named_parked`,
        'park.check.interval.ms': '3600000',
      },
      'named',
      [],
      records,
    );
    expect(dlq.map((d) => (d.record.key as string).length).sort((a, b) => a - b)).toEqual([301, 100_000]);
    for (const d of dlq) {
      expect(d.error).toMatchObject({ code: 'ERPSTREAM_DATA' });
      expect(d.error.message).toMatch(/^The entity id from the record key has \d+ characters: at most 300/);
      expect(d.error.message.length).toBeLessThan(600);
    }
    expect(log.map((e) => e.entityId).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `n${i + 1}`).sort());
  });

  it('a row whose table name would be cut (PostgreSQL keeps 63 characters) goes to the DLQ; the rest is delivered', async () => {
    // destination.table is a template on an origin column: a value that makes an identifier longer than PostgreSQL
    // keeps would name another table (the first 63 characters), and one past the ledger's target column failed the
    // whole batch for ever.
    await pgc.query(`CREATE TABLE ${schema}.routed (id int PRIMARY KEY, region text NOT NULL)`);
    await pgc.query(`INSERT INTO ${schema}.routed SELECT g, 'eu' FROM generate_series(1, 40) g`);
    await pgc.query(`UPDATE ${schema}.routed SET region = $1 WHERE id = 7`, ['r'.repeat(70)]);
    await pgc.query(`UPDATE ${schema}.routed SET region = $1 WHERE id = 30`, ['r'.repeat(600)]);
    await pgc.query(
      `CREATE TABLE ${schema}.routed_eu (id int PRIMARY KEY, region text, erpstream_version numeric(20,0))`,
    );
    const { dlq, log } = await run(
      {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.table': `${schema}.routed`,
        'lookup.key.columns': 'id',
        'entity.name': 'routed',
        'destination.type': 'jdbc',
        'destination.name': `routed_${sfx}`,
        'destination.table': `${schema}.routed_\${region}`,
        'ledger.table': `${schema}.routed_ledger`,
        'park.table': `${schema}.routed_parked`,
        'park.check.interval.ms': '3600000',
      },
      'routed',
      [],
    );
    expect(dlq.map((d) => Number(d.record.key)).sort((a, b) => a - b)).toEqual([7, 30]);
    for (const d of dlq) expect(d.error).toMatchObject({ code: 'ERPSTREAM_DATA' });
    expect(dlq.map((d) => d.error.message).join('\n')).toMatch(
      /of 77 characters for this row: at most 63 on postgresql/,
    );
    expect(dlq.map((d) => d.error.message).join('\n')).toMatch(/at most 512 \(what the ledger holds\)/);
    expect(log.map((e) => Number(e.entityId)).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1).filter((id) => id !== 7 && id !== 30),
    );
  });

  it('a version the ledger cannot hold (more than 20 digits) goes to the DLQ naming it; the rest is delivered', async () => {
    // numeric(20,0) holds every 64-bit sequence, LSN and rowversion. A longer version failed the ledger's write for
    // the whole batch (the task failed on it, again after every restart); it also outranked every real version.
    const huge = [10n ** 20n, -(10n ** 20n), 10n ** 25n];
    const records = Array.from({ length: 40 }, (_, i) =>
      sinkRecord({ topic: 'versions', offset: BigInt(i), key: i + 1, version: BigInt(100 + i) }),
    );
    records.splice(3, 0, sinkRecord({ topic: 'versions', offset: 100n, key: 41, version: huge[0]! }));
    records.splice(20, 0, sinkRecord({ topic: 'versions', offset: 101n, key: 42, version: huge[1]! }));
    records.splice(
      30,
      0,
      sinkRecord({ topic: 'versions', offset: 102n, key: 43, version: `0x${(10n ** 25n).toString(16)}` }),
    );
    records.splice(35, 0, sinkRecord({ topic: 'versions', offset: 103n, key: 44, version: '9'.repeat(1_000_000) }));
    await pgc.query(
      `CREATE TABLE ${schema}.versions_out (document_id int PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
    );
    const { dlq, log } = await run(
      {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.table': `${schema}.document`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        'destination.type': 'jdbc',
        'destination.name': `versions_${sfx}`,
        'destination.table': `${schema}.versions_out`,
        'ledger.table': `${schema}.versions_ledger`,
        'park.table': `${schema}.versions_parked`,
        'park.check.interval.ms': '3600000',
      },
      'versions',
      [],
      records,
    );
    expect(dlq.map((d) => d.record.key).sort()).toEqual([41, 42, 43, 44]);
    for (const d of dlq) {
      expect(d.error).toMatchObject({ code: 'ERPSTREAM_DATA' });
      expect(d.error.message).toMatch(/^header erpstream\.version is out of range: .* \(at most 20 digits/);
      expect(d.error.message.length).toBeLessThan(600);
    }
    expect(log.map((e) => e.entityId).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 40 }, (_, i) => String(i + 1)),
    );
  });

  it('PostgreSQL: ids the lookup refuses (22P02, 22003) go to the DLQ with the reason; the rest is delivered', async () => {
    const bad = ['abc', '99999999999', '1.5'];
    const { dlq, log, metrics } = await run(
      {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.table': `${schema}.document`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        'destination.type': 'jdbc',
        'destination.name': `poison_${sfx}`,
        'destination.table': `${schema}.document_out`,
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
        'park.check.interval.ms': '3600000',
      },
      'docs',
      bad,
    );
    expect(dlq.map((d) => d.record.key).sort()).toEqual([...bad].sort());
    const reason = (k: string) => dlq.find((d) => d.record.key === k)!.error.message;
    expect(reason('abc')).toMatch(/invalid input syntax for type integer.*22P02/);
    expect(reason('99999999999')).toMatch(/out of range.*22003/);
    expect(log.map((e) => e.entityId).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 40 }, (_, i) => String(i + 1)),
    );
    const { rows } = await pgc.query(`SELECT count(*)::int AS n FROM ${schema}.document_out`);
    expect(rows[0].n).toBe(40);
    expect(metrics).toMatchObject({ delivered: 40, poisoned: 3 });
  });

  it('PostgreSQL: an sql dependency query that fails for one id isolates that id too', async () => {
    // The lookup table is keyed by text (every id is accepted), the check query compares with an int column.
    await pgc.query(`CREATE TABLE ${schema}.tagged (document_id text PRIMARY KEY, title text NOT NULL)`);
    await pgc.query(`INSERT INTO ${schema}.tagged SELECT g::text, 'doc ' || g FROM generate_series(1, 40) g`);
    await pgc.query(`INSERT INTO ${schema}.tagged VALUES ('abc', 'bad')`);
    await pgc.query(
      `CREATE TABLE ${schema}.tagged_out (document_id text PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
    );
    const { dlq, log } = await run(
      {
        'lookup.connection.url': requireEnv('PG_URL'),
        'lookup.table': `${schema}.tagged`,
        'lookup.key.columns': 'document_id',
        'entity.name': 'tagged',
        dependencies: 'registered',
        'dependencies.registered.type': 'sql',
        'dependencies.registered.query': `SELECT 1 FROM ${schema}.registered WHERE document_id = CAST(:id AS int)`,
        'destination.type': 'jdbc',
        'destination.name': `poison_${sfx}`,
        'destination.table': `${schema}.tagged_out`,
        'ledger.table': `${schema}.ledger`,
        'park.table': `${schema}.parked`,
        'park.check.interval.ms': '3600000',
      },
      'tagged',
      ['abc'],
    );
    expect(dlq.map((d) => d.record.key)).toEqual(['abc']);
    expect(dlq[0]!.error.message).toMatch(/dependency registered: .*22P02/);
    expect(log).toHaveLength(40);
  });

  it('MariaDB: ids the database coerces (a warning, or another key returned) are isolated the same way', async () => {
    const bad = ['abc', '2abc', '02'];
    const { dlq, log, metrics } = await run(
      {
        'lookup.connection.url': requireEnv('MYSQL_URL'),
        'lookup.table': t('document'),
        'lookup.key.columns': 'document_id',
        'entity.name': 'document',
        'destination.type': 'jdbc',
        'destination.name': `poison_${sfx}`,
        'destination.table': t('document_out'),
        'ledger.table': t('ledger'),
        'park.table': t('parked'),
        'park.check.interval.ms': '3600000',
      },
      'docs',
      bad,
    );
    expect(dlq.map((d) => d.record.key).sort()).toEqual([...bad].sort());
    const reason = (k: string) => dlq.find((d) => d.record.key === k)!.error.message;
    expect(reason('abc')).toMatch(/Truncated incorrect|warning/i);
    expect(reason('2abc')).toMatch(/returned key "2" for the requested id "2abc"/);
    expect(reason('02')).toMatch(/returned key "2" for the requested id "02"/);
    expect(new Set(log.map((e) => e.entityId)).size).toBe(40);
    const [rows] = await my.query(`SELECT COUNT(*) AS n FROM ${t('document_out')}`);
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(40);
    expect(metrics).toMatchObject({ delivered: 40, poisoned: 3, deleted: 0 });
  });
});
