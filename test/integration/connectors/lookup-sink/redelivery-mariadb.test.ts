import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask, lookupSinkPlugin } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';

// The re-delivery queue and replay on MariaDB (origin, ledger, queue and jdbc destination): its SQL differs from
// PostgreSQL's (IN lists, LIMIT, no arrays), so the same repair runs here end to end.
const sfx = uniqueSuffix();
const t = (name: string) => `ls_rd_${name}_${sfx}`;
let db: mysql.Connection;

const props: Record<string, string> = {
  'lookup.connection.url': requireEnv('MYSQL_URL'),
  'lookup.table': t('doc'),
  'lookup.key.columns': 'doc_id',
  'lookup.version.column': 'rev',
  'entity.name': 'doc',
  'destination.type': 'jdbc',
  'destination.name': `rd_${sfx}`,
  'destination.table': t('doc_out'),
  'ledger.table': t('ledger'),
  'park.table': t('parked'),
  'redelivery.table': t('redelivery'),
  'park.check.interval.ms': '3600000',
  'redelivery.poll.interval.ms': '3600000',
};

beforeAll(async () => {
  db = await mysql.createConnection({ uri: requireEnv('MYSQL_URL'), supportBigNumbers: true, bigNumberStrings: true });
  await db.query(`CREATE TABLE ${t('doc')} (doc_id INT PRIMARY KEY, title VARCHAR(100), rev BIGINT NOT NULL)`);
  await db.query(
    `CREATE TABLE ${t('doc_out')} (doc_id INT PRIMARY KEY, title VARCHAR(100), rev BIGINT, erpstream_version DECIMAL(20,0))`,
  );
});

afterAll(async () => {
  for (const n of ['doc', 'doc_out', 'ledger', 'parked', 'redelivery', 'redelivery_requests']) {
    await db.query(`DROP TABLE IF EXISTS ${t(n)}`);
  }
  await db.end();
});

describe('LookupSink re-delivery on MariaDB', () => {
  it('replays a truncated table from the ledger and resumes instead of queueing twice', async () => {
    for (let id = 1; id <= 12; id++)
      await db.query(`INSERT INTO ${t('doc')} VALUES (?, ?, ?)`, [id, `d${id}`, 10 + id]);
    const task = new LookupSinkTask();
    task.initialize({ ...testContext(), connectorName: 'rd-sink' });
    await task.start(props);
    const admin = await lookupSinkPlugin.redelivery({ connector: 'rd-sink', config: props });
    try {
      await task.put(
        Array.from({ length: 12 }, (_, i) =>
          sinkRecord({ topic: 'docs', offset: BigInt(i), key: i + 1, version: BigInt(11 + i) }),
        ),
      );
      await task.flush(); // put() may return while a pipelined batch is still written
      const before = (await db.query(`SELECT * FROM ${t('doc_out')} ORDER BY doc_id`))[0];
      await db.query(`DELETE FROM ${t('doc_out')}`);
      const ids: string[] = [];
      for await (const page of admin.deliveredSince({ version: 15n }, 5)) ids.push(...page);
      // Id order is the ledger's (text): versions 15.. are docs 5..12.
      expect([...ids].sort((a, b) => Number(a) - Number(b))).toEqual(['5', '6', '7', '8', '9', '10', '11', '12']);
      const all: string[] = [];
      for await (const page of admin.deliveredSince({ timeMs: Date.now() - 3_600_000 }, 5)) all.push(...page);
      expect(all).toHaveLength(12);
      const items = all.map((entityId) => ({ entityId, action: 'deliver' as const }));
      const r = await admin.submit({ requestKey: 'replay:t', operationId: 'op', items: [items] });
      expect(r).toMatchObject({ queued: 12, resumed: false });
      expect(await task.redeliverQueued()).toBe(12);
      // Done: the same request again is a new one (nothing pending), and queues them again.
      expect(await admin.progress(r.requestId)).toMatchObject({ total: 12, delivered: 12, pending: 0, done: true });
      expect((await db.query(`SELECT * FROM ${t('doc_out')} ORDER BY doc_id`))[0]).toEqual(before);
      const pending = await admin.submit({ requestKey: 'replay:t', operationId: 'op2', items: [items.slice(0, 3)] });
      expect(pending).toMatchObject({ resumed: false, queued: 3 });
      const resumed = await admin.submit({ requestKey: 'replay:t', operationId: 'op3', items: [items.slice(0, 5)] });
      expect(resumed).toMatchObject({ requestId: pending.requestId, resumed: true, queued: 2, alreadyQueued: 3 });
      expect(await task.redeliverQueued()).toBe(5);
      expect(await admin.progress(resumed.requestId)).toMatchObject({ total: 5, pending: 0, done: true });
    } finally {
      await admin.close();
      await task.stop();
    }
  });
});
