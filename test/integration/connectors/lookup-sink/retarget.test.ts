import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask, lookupSinkPlugin } from '../../../../connectors/lookup-sink/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { sinkRecord, testContext } from './harness.js';

// A connector whose target changes (destination.table edited in the integration file) while the ledger says every
// entity was delivered, at its latest version, to the old table. The records consumed again (an offset reset) or a
// replay (`erpstream integrations replay`) must fill the new table with every entity at its latest version; the old
// table's copy follows destination.withdraw.mode (docs/lookup-sink.md, "Fan-out and withdrawal"): delete (the
// default) withdraws it (a DELETE), ignore leaves it there and the ledger forgets it.
const pgUrl = requireEnv('PG_URL');
const schema = `ls_retarget_${uniqueSuffix()}`;
let db: pg.Client;
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'retarget-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'retarget-it' });

const N = 6;
const ids = Array.from({ length: N }, (_, i) => i + 1);

const props = (name: string, table: string, extra: Record<string, string> = {}): Record<string, string> => ({
  'connector.class': 'LookupSink',
  topics: 'documents',
  'lookup.connection.url': pgUrl,
  'lookup.query': `SELECT document_id, title FROM ${schema}.document WHERE document_id IN (:ids)`,
  'lookup.key.columns': 'document_id',
  'entity.name': 'document',
  'destination.type': 'jdbc',
  'destination.name': name,
  'destination.table': `${schema}.${table}`,
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.parked`,
  'redelivery.table': `${schema}.redelivery`,
  'park.check.interval.ms': '3600000',
  'redelivery.poll.interval.ms': '3600000',
  ...extra,
});

async function startTask(name: string, table: string, extra: Record<string, string> = {}): Promise<LookupSinkTask> {
  const task = new LookupSinkTask();
  task.initialize({ ...testContext({ kafka: access }), connectorName: `${name}-sink` });
  await task.start(props(name, table, extra));
  return task;
}

/** Every entity's history on the input topic: two versions each, the second one the latest (the origin's state). */
function history(): ReturnType<typeof sinkRecord>[] {
  let offset = 0n;
  const out: ReturnType<typeof sinkRecord>[] = [];
  for (const v of [1, 2]) {
    for (const id of ids) {
      out.push(sinkRecord({ topic: 'documents', offset: offset++, key: id, version: BigInt(id * 10 + v) }));
    }
  }
  return out;
}

async function setDocs(): Promise<void> {
  for (const id of ids) {
    await db.query(
      `INSERT INTO ${schema}.document VALUES ($1, $2) ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title`,
      [id, `t${id}-v2`],
    );
  }
}

async function rows(table: string): Promise<Array<Record<string, unknown>>> {
  const r = await db.query(
    `SELECT document_id AS id, title, erpstream_version::text AS v FROM ${schema}.${table} ORDER BY 1`,
  );
  return r.rows;
}

async function ledgerTargets(name: string): Promise<string[][]> {
  const r = await db.query(`SELECT targets FROM ${schema}.ledger WHERE destination = $1 ORDER BY entity_id::int`, [
    name,
  ]);
  return r.rows.map((l) => (JSON.parse(String(l.targets)) as string[][]).map((t) => t[0]!));
}

/** What the new table must hold: every entity at its latest version. */
const latest = () => ids.map((id) => ({ id, title: `t${id}-v2`, v: String(id * 10 + 2) }));

async function createTables(...names: string[]): Promise<void> {
  for (const t of names) {
    await db.query(
      `CREATE TABLE ${schema}.${t} (document_id int PRIMARY KEY, title text, erpstream_version numeric(20,0))`,
    );
  }
}

/** Delivers the history to `table` with a first task, as the connector was configured before the change. */
async function deliverTo(name: string, table: string, extra: Record<string, string> = {}): Promise<void> {
  const task = await startTask(name, table, extra);
  try {
    await task.put(history());
    await task.flush();
  } finally {
    await task.stop();
  }
  expect(await rows(table)).toEqual(latest());
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL)`);
  await setDocs();
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink after its target changed (destination.table A → B)', () => {
  it('records consumed again (offset reset) fill B with every entity at its latest version; withdraw.mode=delete withdraws them from A', async () => {
    await createTables('reconsume_a', 'reconsume_b');
    await deliverTo('reconsume', 'reconsume_a');
    const task = await startTask('reconsume', 'reconsume_b');
    try {
      // The same records again, as after an offset reset: the ledger holds each entity's latest version (at A).
      await task.put(history());
      await task.flush();
      expect(await rows('reconsume_b')).toEqual(latest());
      expect(await rows('reconsume_a')).toEqual([]);
      expect(await ledgerTargets('reconsume')).toEqual(ids.map(() => [`${schema}.reconsume_b`]));
      // Each entity sent once, at its latest version (the older records of the batch do not go to B).
      expect(task.metrics()).toMatchObject({ delivered: N, withdrawn: N });

      // Consumed once more: now B holds every version, so everything is stale and nothing is sent.
      const before = task.metrics();
      await task.put(history());
      await task.flush();
      expect(task.metrics().staleDropped).toBeGreaterThanOrEqual(before.staleDropped + N);
      expect(task.metrics()).toMatchObject({ delivered: before.delivered, withdrawn: before.withdrawn });
      expect(await rows('reconsume_b')).toEqual(latest());
    } finally {
      await task.stop();
    }
  });

  it('records consumed again with withdraw.mode=ignore fill B; A keeps its copy and the ledger forgets A', async () => {
    await createTables('ignore_a', 'ignore_b');
    const ignore = { 'destination.withdraw.mode': 'ignore' };
    await deliverTo('ignore', 'ignore_a', ignore);
    const task = await startTask('ignore', 'ignore_b', ignore);
    try {
      await task.put(history());
      await task.flush();
      expect(await rows('ignore_b')).toEqual(latest());
      expect(await rows('ignore_a')).toEqual(latest());
      expect(await ledgerTargets('ignore')).toEqual(ids.map(() => [`${schema}.ignore_b`]));
    } finally {
      await task.stop();
    }
  });

  it('a replay (integrations replay --since) fills B with every entity at its latest version; withdraw.mode=delete withdraws them from A', async () => {
    await createTables('replay_a', 'replay_b');
    await deliverTo('replay', 'replay_a');
    const task = await startTask('replay', 'replay_b');
    const admin = await lookupSinkPlugin.redelivery({
      connector: 'replay-sink',
      config: props('replay', 'replay_b'),
    });
    try {
      // What the REST route does for `replay --since <version>`: every id the ledger lists since then, to deliver.
      const since: string[] = [];
      for await (const page of admin.deliveredSince({ version: 0n })) since.push(...page);
      expect(since).toEqual(ids.map(String));
      const r = await admin.submit({
        requestKey: 'replay:v0',
        operationId: 'op-replay',
        items: [since.map((entityId) => ({ entityId, action: 'deliver' as const }))],
      });
      for (let k = 0; k < 100 && (await task.redeliverQueued()) > 0; k++);
      expect(await admin.progress(r.requestId)).toMatchObject({ total: N, pending: 0, failed: 0, done: true });
      expect(await rows('replay_b')).toEqual(latest());
      expect(await rows('replay_a')).toEqual([]);
      expect(await ledgerTargets('replay')).toEqual(ids.map(() => [`${schema}.replay_b`]));
    } finally {
      await admin.close();
      await task.stop();
    }
  });
});
