import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { raceInOppositeOrders, sinkRecord, testContext } from './harness.js';

// On MariaDB a jdbc destination in the ledger's database commits a batch and its ledger entries in one transaction.
// This batch is many statements (two tables by destination.table, 200 rows a statement, 500 ledger entries a
// statement): a failure in the last table's rows must leave no row and no ledger entry of the batch.
const sfx = uniqueSuffix();
const t = (name: string) => `ls_alm_${name}_${sfx}`;
let db: mysql.Connection;
const IDS = Array.from({ length: 1200 }, (_, i) => i + 1);

const props: Record<string, string> = {
  'lookup.connection.url': requireEnv('MYSQL_URL'),
  'lookup.table': t('doc'),
  'lookup.key.columns': 'doc_id',
  'entity.name': 'doc',
  'destination.type': 'jdbc',
  'destination.name': `alm_${sfx}`,
  'destination.table': `ls_alm_out_${sfx}_\${region}`,
  'ledger.table': t('ledger'),
  'park.table': t('parked'),
  'redelivery.table': t('redelivery'),
  'park.check.interval.ms': '3600000',
  'redelivery.poll.interval.ms': '3600000',
};

const out = (region: string) => `ls_alm_out_${sfx}_${region}`;

beforeAll(async () => {
  db = await mysql.createConnection({ uri: requireEnv('MYSQL_URL'), supportBigNumbers: true, bigNumberStrings: true });
  await db.query(`CREATE TABLE ${t('doc')} (doc_id INT PRIMARY KEY, title VARCHAR(100), region VARCHAR(10))`);
  await db.query(
    `INSERT INTO ${t('doc')} VALUES ${IDS.map((id) => `(${id}, 'd${id}', '${id % 3 === 0 ? 'b' : 'a'}')`).join(', ')}`,
  );
  for (const r of ['a', 'b']) {
    await db.query(
      `CREATE TABLE ${out(r)} (doc_id INT PRIMARY KEY, title VARCHAR(100), region VARCHAR(10), erpstream_version DECIMAL(20,0))`,
    );
  }
});

afterAll(async () => {
  for (const n of [t('doc'), out('a'), out('b'), t('ledger'), t('parked'), t('redelivery'), t('redelivery_requests')]) {
    await db.query(`DROP TABLE IF EXISTS ${n}`);
  }
  await db.end();
});

async function counts(): Promise<{ a: number; b: number; ledger: number }> {
  const n = async (sql: string) => Number(((await db.query(sql))[0] as Array<{ n: unknown }>)[0]!.n);
  return {
    a: await n(`SELECT count(*) AS n FROM ${out('a')}`),
    b: await n(`SELECT count(*) AS n FROM ${out('b')}`),
    ledger: await n(`SELECT count(*) AS n FROM ${t('ledger')} WHERE version >= 0`),
  };
}

const records = (version: bigint) =>
  IDS.map((id, i) => sinkRecord({ topic: 'docs', offset: BigInt(i), key: id, version }));

describe('LookupSink on MariaDB: a jdbc batch committed with its ledger entries in one transaction', () => {
  it('a failure in the last statement leaves no row and no ledger entry; the batch consumed again lands whole', async () => {
    await db.query(
      `CREATE TRIGGER ${t('refuse')} BEFORE INSERT ON ${out('b')} FOR EACH ROW ` +
        `BEGIN IF NEW.doc_id = 1197 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused 1197'; END IF; END`,
    );
    const failing = new LookupSinkTask();
    failing.initialize(testContext({ dlq: [] }));
    await failing.start(props);
    await failing.put(records(5n)).catch(() => {});
    await expect(failing.flush()).rejects.toThrow(/refused 1197/);
    await failing.stop();
    expect(await counts(), 'nothing of the failed batch').toEqual({ a: 0, b: 0, ledger: 0 });

    await db.query(`DROP TRIGGER ${t('refuse')}`);
    const task = new LookupSinkTask();
    task.initialize(testContext({ dlq: [] }));
    await task.start(props);
    try {
      await task.put(records(5n));
      await task.flush();
      expect(await counts()).toEqual({ a: 800, b: 400, ledger: 1200 });
      const [rows] = await db.query(`SELECT DISTINCT CAST(version AS CHAR) AS v, targets FROM ${t('ledger')} LIMIT 3`);
      for (const r of rows as Array<{ v: string; targets: string }>) {
        expect(r.v).toBe('5');
        expect(r.targets).not.toMatch(/"-1"/);
      }
    } finally {
      await task.stop();
    }
  });

  it('two tasks committing the same entities (two tables, opposite record orders) at once neither deadlock nor go backwards', async () => {
    const start = async () => {
      const task = new LookupSinkTask();
      task.initialize(testContext({ dlq: [] }));
      // A destination of its own, and empty tables: the first round inserts every row and ledger entry at once.
      await task.start({ ...props, 'destination.name': `almrace_${sfx}` });
      return task;
    };
    await db.query(`DELETE FROM ${out('a')}`);
    await db.query(`DELETE FROM ${out('b')}`);
    const versioned = (ids: readonly number[], version: (id: number) => bigint, from: number) =>
      ids.map((id, i) => sinkRecord({ topic: 'docs', offset: BigInt(from + i), key: id, version: version(id) }));
    await raceInOppositeOrders([await start(), await start()], IDS, versioned, async (round, want) => {
      for (const table of [out('a'), out('b')]) {
        const [rows] = await db.query(
          `SELECT CAST(min(erpstream_version) AS CHAR) AS lo, CAST(max(erpstream_version) AS CHAR) AS hi FROM ${table}`,
        );
        expect((rows as Array<{ lo: string; hi: string }>)[0], `round ${round}: ${table}`).toEqual({
          lo: want,
          hi: want,
        });
      }
      const [l] = await db.query(
        `SELECT CAST(min(version) AS CHAR) AS lo, count(*) AS n FROM ${t('ledger')} WHERE destination = ?`,
        [`almrace_${sfx}`],
      );
      expect((l as Array<{ lo: string }>)[0]!.lo, `round ${round}: the ledger`).toBe(want);
    });
  });
});
