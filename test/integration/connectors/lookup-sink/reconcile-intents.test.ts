import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask, lookupSinkPlugin } from '../../../../connectors/lookup-sink/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';

// Ledger targets written ahead of a send (version -1: held at an unknown version) on the real PostgreSQL: one
// written just now is a send in flight, neither drift nor a delivery; one left for an hour is a send that never
// confirmed (a crash between the send and the ledger write), which reconcile must flag for a replay.
const sfx = uniqueSuffix();
const schema = `bugs_intents_${sfx}`;
const destination = `intents_${sfx}`;
let db: pg.Client;

const config: Record<string, string> = {
  'connector.class': 'LookupSink',
  topics: 'docs',
  'lookup.connection.url': requireEnv('PG_URL'),
  'lookup.table': `${schema}.doc`,
  'lookup.key.columns': 'id',
  'lookup.version.column': 'rev',
  'entity.name': 'doc',
  'destination.type': 'jdbc',
  'destination.name': destination,
  'destination.table': `${schema}.doc_out`,
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.parked`,
  'park.check.interval.ms': '3600000',
};

/** A ledger row as intend() writes it before a send: the target listed at version -1, `ageMs` ago. */
async function intent(id: string, ageMs: number): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.ledger (destination, entity, entity_id, version, target, deleted, updated_at, ` +
      `delivered_key, targets) VALUES ($1, 'doc', $2, -1, $3, false, $4, NULL, $5)`,
    [destination, id, `${schema}.doc_out`, Date.now() - ageMs, JSON.stringify([[`${schema}.doc_out`, null, '-1']])],
  );
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.doc (id int PRIMARY KEY, title text, rev int NOT NULL)`);
  await db.query(
    `CREATE TABLE ${schema}.doc_out (id int PRIMARY KEY, title text, rev int, erpstream_version numeric(20,0))`,
  );
  await db.query(`INSERT INTO ${schema}.doc SELECT i, 'doc ' || i, 1 FROM generate_series(1, 4) i`);
  // 1 and 2 delivered the normal way (this creates the ledger).
  const task = new LookupSinkTask();
  task.initialize(testContext());
  await task.start(config);
  try {
    await task.put([1, 2].map((id, i) => sinkRecord({ topic: 'docs', offset: BigInt(i), key: id, version: 1n })));
  } finally {
    await task.stop();
  }
  // 3: a send in flight (its intent just written, nothing at the destination yet).
  await intent('3', 1000);
  // 4: a send that never confirmed an hour ago (the row did reach the table; the ledger never heard).
  await intent('4', 3_600_000);
  await db.query(`INSERT INTO ${schema}.doc_out VALUES (4, 'doc 4', 1, 1)`);
});

afterAll(async () => {
  await db?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await db?.end();
});

describe('LookupSink: ledger targets written ahead of a send', () => {
  it('reconcile leaves a send in flight alone and flags one that never confirmed for a replay', async () => {
    const report = await lookupSinkPlugin.reconcile({ connector: 'docs-sink', config, sample: 50 });
    const ids = Object.fromEntries(Object.entries(report.samples).map(([k, l]) => [k, l.map((d) => d.entityId)]));
    expect(ids).toEqual({ missing: [], stale: [], extra: [], drift: ['4'] });
    expect(report.samples.drift[0]).toMatchObject({ ledgerVersion: '-1', destinationVersion: '1', originVersion: '1' });
    expect(report.notes.join('\n')).toMatch(/1 \(entity, target\) pairs are being sent .*not compared/);
    expect(report.notes.join('\n')).toMatch(/1 \(entity, target\) pairs .* never confirmed .* repair sends them again/);
  });

  it('the admin view (console, trace) lists them as sending / unconfirmed, not as delivered', async () => {
    const admin = await lookupSinkPlugin.admin(config);
    try {
      const entries = await admin.ledger(['1', '3', '4']);
      const view = Object.fromEntries(
        entries.map((e) => [e.entityId, e.targets.map((t) => ({ version: t.version, pending: t.pending }))]),
      );
      expect(view).toEqual({
        '1': [{ version: 1n, pending: undefined }],
        '3': [{ version: -1n, pending: 'sending' }],
        '4': [{ version: -1n, pending: 'unconfirmed' }],
      });
    } finally {
      await admin.close();
    }
  });
});
