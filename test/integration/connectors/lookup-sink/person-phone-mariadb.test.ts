import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, eventually, recording, sinkRecord, testContext } from './harness.js';

// Phones arrive before their Person. Two connectors (persons, phones) share one logical destination; the phone
// connector declares a ledger dependency on the person. MariaDB is origin, ledger and jdbc destination.
const sfx = uniqueSuffix();
let db: mysql.Connection;
const t = (name: string) => `ls_${name}_${sfx}`;

function common(entity: string): Record<string, string> {
  return {
    'lookup.connection.url': requireEnv('MYSQL_URL'),
    'lookup.table': t(entity),
    'entity.name': entity,
    'destination.type': 'jdbc',
    'destination.name': `crm_${sfx}`,
    'destination.table': t(`${entity}_out`),
    'ledger.table': t('ledger'),
    'park.table': t('parked'),
    'park.check.interval.ms': '3600000',
  };
}

beforeAll(async () => {
  db = await mysql.createConnection({ uri: requireEnv('MYSQL_URL'), supportBigNumbers: true, bigNumberStrings: true });
  await db.query(`CREATE TABLE ${t('person')} (person_id BIGINT PRIMARY KEY, name VARCHAR(100), rev BIGINT NOT NULL)`);
  await db.query(
    `CREATE TABLE ${t('phone')} (phone_id INT PRIMARY KEY, person_id BIGINT, number VARCHAR(40), balance DECIMAL(20,4), rev BIGINT NOT NULL)`,
  );
  await db.query(
    `CREATE TABLE ${t('person_out')} (person_id BIGINT PRIMARY KEY, name VARCHAR(100), rev BIGINT, erpstream_version DECIMAL(20,0))`,
  );
  await db.query(
    `CREATE TABLE ${t('phone_out')} (phone_id INT PRIMARY KEY, person_id BIGINT, number VARCHAR(40), balance DECIMAL(20,4), erpstream_version DECIMAL(20,0))`,
  );
});

afterAll(async () => {
  for (const name of ['person', 'phone', 'person_out', 'phone_out', 'ledger', 'parked']) {
    await db.query(`DROP TABLE IF EXISTS ${t(name)}`);
  }
  await db.end();
});

describe('LookupSink Person/Phone on MariaDB (ledger dependency, jdbc destination)', () => {
  it('delivers phones that arrived first right after their person, and never lets an older version win', async () => {
    const log: DeliveryEvent[] = [];
    const persons = new LookupSinkTask({ wrapDestination: recording(log) });
    const phones = new LookupSinkTask({ wrapDestination: recording(log) });
    persons.initialize(testContext());
    phones.initialize(testContext());
    await persons.start({ ...common('person'), 'lookup.key.columns': 'person_id' });
    await phones.start({
      ...common('phone'),
      'lookup.key.columns': 'phone_id',
      dependencies: 'owner',
      'dependencies.owner.type': 'ledger',
      'dependencies.owner.entity': 'person',
      'dependencies.owner.id.field': 'person_id',
    });
    try {
      const big = 9007199254740993n; // above 2^53: must stay exact as an id
      await db.query(
        `INSERT INTO ${t('phone')} VALUES (1, ?, '+1 555 0100', 12345678901234.5678, 10), (2, ?, '+1 555 0101', 0.0001, 11)`,
        [big.toString(), big.toString()],
      );
      await phones.put([
        sinkRecord({ topic: 'phones', offset: 0n, key: 1, version: 10n }),
        sinkRecord({ topic: 'phones', offset: 1n, key: 2, version: Buffer.from('11') }),
      ]);
      // put() may return while a pipelined batch is still written (the worker's commit waits for it).
      await phones.flush();
      expect(phones.metrics()).toMatchObject({ parked: 2, delivered: 0 });
      const [before] = await db.query(`SELECT COUNT(*) AS n FROM ${t('phone_out')}`);
      expect(Number((before as Array<{ n: number }>)[0]!.n)).toBe(0);

      await db.query(`INSERT INTO ${t('person')} VALUES (?, 'Ada', 20)`, [big.toString()]);
      await persons.put([sinkRecord({ topic: 'persons', offset: 0n, key: { person_id: big }, version: 20n })]);

      // The person's delivery wakes the waiting phones (in-process index), without waiting for the backoff.
      await eventually(() => expect(phones.metrics()).toMatchObject({ parked: 0, released: 2 }));
      const order = log.map((e) => `${e.target}:${e.entityId}`);
      expect(order[0]).toBe(`${t('person_out')}:${big}`);
      expect(order.slice(1).sort()).toEqual([`${t('phone_out')}:1`, `${t('phone_out')}:2`]);

      const [rows] = await db.query(
        `SELECT phone_id, person_id, balance, erpstream_version FROM ${t('phone_out')} ORDER BY phone_id`,
      );
      expect(rows).toEqual([
        { phone_id: 1, person_id: big.toString(), balance: '12345678901234.5678', erpstream_version: '10' },
        { phone_id: 2, person_id: big.toString(), balance: '0.0001', erpstream_version: '11' },
      ]);

      // A late replay of version 10 after version 12 was delivered is dropped by the ledger, and the guarded
      // upsert would refuse it anyway.
      await db.query(`UPDATE ${t('phone')} SET number = '+1 555 0199', rev = 12 WHERE phone_id = 1`);
      await phones.put([sinkRecord({ topic: 'phones', offset: 2n, key: 1, version: 12n })]);
      await phones.put([sinkRecord({ topic: 'phones', offset: 0n, key: 1, version: 10n })]);
      await phones.flush();
      const [after] = await db.query(`SELECT number, erpstream_version FROM ${t('phone_out')} WHERE phone_id = 1`);
      expect(after).toEqual([{ number: '+1 555 0199', erpstream_version: '12' }]);
      expect(phones.metrics().staleDropped).toBe(1);

      // The origin row is deleted: the destination row goes too.
      await db.query(`DELETE FROM ${t('phone')} WHERE phone_id = 2`);
      await phones.put([sinkRecord({ topic: 'phones', offset: 3n, key: 2, version: 13n })]);
      await phones.flush();
      const [left] = await db.query(`SELECT phone_id FROM ${t('phone_out')} ORDER BY phone_id`);
      expect(left).toEqual([{ phone_id: 1 }]);
    } finally {
      await persons.stop();
      await phones.stop();
    }
  });
});
