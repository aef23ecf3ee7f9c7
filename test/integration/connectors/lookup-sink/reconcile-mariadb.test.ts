import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask, lookupSinkPlugin } from '../../../../connectors/lookup-sink/index.js';
import type { ReconcileConnectorReport } from '../../../../runtime/api/reconcile.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import { buildTaskTransforms } from '../../../../runtime/worker/task-transforms.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { eventually, sinkRecord, testContext } from './harness.js';

// Reconcile on MariaDB (origin, ledger and jdbc destination: the driver's row stream instead of a PostgreSQL
// cursor), with lookup.table and a ledger dependency: phones whose person was never delivered wait, and reconcile
// leaves them alone. The sorted runs are made tiny so every side spills to disk and is merged back.
const sfx = uniqueSuffix();
let db: mysql.Connection;
const t = (name: string) => `rc_${name}_${sfx}`;
const destination = `crm_${sfx}`;

function config(entity: string, key: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    topics: entity,
    'lookup.connection.url': requireEnv('MYSQL_URL'),
    'lookup.table': t(entity),
    'lookup.key.columns': key,
    'lookup.version.column': 'rev',
    'entity.name': entity,
    'destination.type': 'jdbc',
    'destination.name': destination,
    'destination.table': t(`${entity}_out`),
    'ledger.table': t('ledger'),
    'park.table': t('parked'),
    'park.check.interval.ms': '3600000',
    ...extra,
  };
}
const PHONE_DEPENDENCY = {
  dependencies: 'owner',
  'dependencies.owner.type': 'ledger',
  'dependencies.owner.entity': 'person',
  'dependencies.owner.id.field': 'person_id',
};

// Persons of other customers are in the same origin table: the connector's DomainRouter drops them, as it drops
// their records in the worker. Reconcile must run that chain too, or it would call them missing.
const PERSON_ROUTING = {
  transforms: 'domain',
  'transforms.domain.type': 'DomainRouter',
  'transforms.domain.domain.field': 'cust',
  'transforms.domain.domain.mapping': 'A:a',
  'transforms.domain.on.missing': 'drop',
};
const registry = builtinRegistry();

async function reconcile(entity: string, key: string, extra: Record<string, string> = {}, chains = true) {
  const seen: string[] = [];
  const report = await lookupSinkPlugin.reconcile({
    connector: `${entity}-sink`,
    config: config(entity, key, extra),
    ...(chains ? { transforms: (p, prefix) => buildTaskTransforms(registry, p, prefix) } : {}),
    sample: 100,
    runEntries: 3,
    onDifference: (d) => void seen.push(`${d.kind}:${d.entityId}`),
  });
  return { report, seen };
}

const ids = (r: ReconcileConnectorReport) =>
  Object.fromEntries(Object.entries(r.samples).map(([k, list]) => [k, list.map((d) => d.entityId)]));

beforeAll(async () => {
  db = await mysql.createConnection({ uri: requireEnv('MYSQL_URL'), supportBigNumbers: true, bigNumberStrings: true });
  await db.query(
    `CREATE TABLE ${t('person')} (person_id BIGINT PRIMARY KEY, name VARCHAR(100), cust CHAR(1), rev BIGINT NOT NULL)`,
  );
  await db.query(
    `CREATE TABLE ${t('phone')} (phone_id INT PRIMARY KEY, person_id BIGINT, number VARCHAR(40), rev BIGINT NOT NULL)`,
  );
  await db.query(
    `CREATE TABLE ${t('person_out')} (person_id BIGINT PRIMARY KEY, name VARCHAR(100), rev BIGINT, erpstream_version DECIMAL(20,0))`,
  );
  await db.query(
    `CREATE TABLE ${t('phone_out')} (phone_id INT PRIMARY KEY, person_id BIGINT, number VARCHAR(40), erpstream_version DECIMAL(20,0))`,
  );
});

afterAll(async () => {
  for (const name of ['person', 'phone', 'person_out', 'phone_out', 'ledger', 'parked']) {
    await db.query(`DROP TABLE IF EXISTS ${t(name)}`);
  }
  await db.end();
});

describe('reconcile on MariaDB (lookup.table, ledger dependency, spilled runs)', () => {
  it('is in sync after delivery, leaves waiting phones alone, then names exactly what was broken', async () => {
    const persons = new LookupSinkTask();
    const phones = new LookupSinkTask();
    persons.initialize(testContext());
    phones.initialize(testContext());
    await persons.start(config('person', 'person_id'));
    await phones.start(config('phone', 'phone_id', PHONE_DEPENDENCY));
    try {
      for (let p = 1; p <= 7; p++) {
        await db.query(`INSERT INTO ${t('person')} VALUES (?, ?, ?, ?)`, [p, `p${p}`, p <= 5 ? 'A' : 'B', 10 + p]);
      }
      // Phones 1–10 belong to persons 1–5; 11 and 12 to person 99, who never comes: they wait.
      for (let f = 1; f <= 12; f++) {
        await db.query(`INSERT INTO ${t('phone')} VALUES (?, ?, ?, ?)`, [
          f,
          f <= 10 ? ((f - 1) % 5) + 1 : 99,
          `+${f}`,
          100 + f,
        ]);
      }
      await persons.put(
        Array.from({ length: 5 }, (_, i) =>
          sinkRecord({ topic: 'person', offset: BigInt(i), key: i + 1, version: BigInt(11 + i) }),
        ),
      );
      await phones.put(
        Array.from({ length: 12 }, (_, i) =>
          sinkRecord({ topic: 'phone', offset: BigInt(i), key: i + 1, version: BigInt(101 + i) }),
        ),
      );
      await eventually(() => expect(phones.metrics()).toMatchObject({ parked: 2 }));

      const before = await reconcile('phone', 'phone_id', PHONE_DEPENDENCY);
      expect(before.report.counts).toEqual({ missing: 0, stale: 0, extra: 0, drift: 0 });
      expect(before.report.totals).toEqual({ origin: 10, ledger: 10, destination: 10, waiting: 2 });
      const routed = await reconcile('person', 'person_id', PERSON_ROUTING);
      expect(routed.report.counts).toEqual({ missing: 0, stale: 0, extra: 0, drift: 0 });
      expect(routed.report.notes).toContain(
        "2 origin rows are dropped by the connector's transforms (not this customer's).",
      );
      // Without the chain, customer B's persons 6 and 7 would look missing: the chain is what decides.
      expect(ids((await reconcile('person', 'person_id', PERSON_ROUTING, false)).report).missing).toEqual(['6', '7']);
    } finally {
      await persons.stop();
      await phones.stop();
    }

    await db.query(`DELETE FROM ${t('person_out')} WHERE person_id = 2`); // missing + drift
    await db.query(`DELETE FROM ${t('phone')} WHERE phone_id = 3`); // gone at the origin: extra
    await db.query(`UPDATE ${t('phone')} SET rev = rev + 1000 WHERE phone_id = 4`); // stale
    await db.query(`UPDATE ${t('phone_out')} SET erpstream_version = 999 WHERE phone_id = 10`); // ahead: drift only

    await db.query(`UPDATE ${t('person')} SET cust = 'B' WHERE person_id = 5`); // moved to customer B: extra
    const person = await reconcile('person', 'person_id', PERSON_ROUTING);
    expect(person.report.counts).toEqual({ missing: 1, stale: 0, extra: 1, drift: 1 });
    expect(ids(person.report)).toEqual({ missing: ['2'], stale: [], extra: ['5'], drift: ['2'] });
    const phone = await reconcile('phone', 'phone_id', PHONE_DEPENDENCY);
    expect(phone.report.counts).toEqual({ missing: 0, stale: 1, extra: 1, drift: 1 });
    expect(ids(phone.report)).toEqual({ missing: [], stale: ['4'], extra: ['3'], drift: ['10'] });
    // onDifference streams every difference, in key order (the samples hold the same here).
    expect(phone.seen).toEqual(['drift:10', 'extra:3', 'stale:4']);
    expect(phone.report.totals.waiting).toBe(2);
  }, 60_000);
});
