import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Destination, LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { DeliveryLedger } from '../../../../connectors/lookup-sink/ledger.js';
import { ParkStore } from '../../../../connectors/lookup-sink/park-store.js';
import { PostgresClient } from '../../../../connectors/shared/sql/postgres-pool.js';
import { ErpStreamError } from '../../../../runtime/api/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type DeliveryEvent, recording, sinkRecord, testContext } from './harness.js';

// With a Kafka destination, put() returns while its batch is still being sent, and the next batch is decided
// meanwhile. These tests hold a batch in the destination and check what the next one sees and what is committed.
const pgUrl = requireEnv('PG_URL');
const sfx = uniqueSuffix();
const schema = `ls_pipe_${sfx}`;
const topic = `erp.${schema}.document`;
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-it' });
let db: pg.Client;

function props(name: string): Record<string, string> {
  return {
    'lookup.connection.url': pgUrl,
    'lookup.table': `${schema}.document`,
    'lookup.key.columns': 'document_id',
    'entity.name': 'document',
    'destination.type': 'kafka',
    'destination.name': name,
    'destination.topic': `${schema}.out`,
    'ledger.table': `${schema}.ledger`,
    'park.table': `${schema}.parked`,
    'park.check.interval.ms': '3600000',
  };
}

/** A destination that holds each deliver() until release() and can be told to fail. */
function gated(log: DeliveryEvent[]) {
  let open: () => void = () => {};
  let gate = new Promise<void>((r) => (open = r));
  const state = { fail: false };
  const targeted = new Map<string, () => void>();
  const wrap = (d: Destination): Destination => {
    const r = recording(log)(d);
    return {
      ...r,
      // Routing happens while a batch is decided: the test learns that the decision is made.
      targetOf(row, id) {
        targeted.get(id)?.();
        return r.targetOf(row, id);
      },
      async deliver(items, alongside) {
        await gate;
        if (state.fail) throw new Error('broker unreachable');
        return r.deliver(items, alongside);
      },
    };
  };
  return {
    wrap,
    state,
    decided: (id: string) => new Promise<void>((resolve) => targeted.set(id, resolve)),
    release() {
      open();
      gate = new Promise<void>((r) => (open = r));
    },
  };
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text NOT NULL)`);
  await db.query(`INSERT INTO ${schema}.document VALUES (1, 'one'), (2, 'two')`);
  await access.ensureTopics([{ topic: `${schema}.out`, partitions: 1 }]);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink pipelining (Kafka destination, PostgreSQL ledger)', () => {
  it('drops a version older than one still being sent, and commits a batch only once it is delivered', async () => {
    const log: DeliveryEvent[] = [];
    const g = gated(log);
    const task = new LookupSinkTask({ wrapDestination: g.wrap });
    task.initialize(testContext({ kafka: access }));
    await task.start(props(`pipe_a_${sfx}`));
    const tp = { topic, partition: 0 };
    try {
      await task.put([sinkRecord({ topic, offset: 0n, key: { document_id: 1 }, version: 5n })]);
      // Batch 0 is held in the destination: nothing of it may be committed yet.
      expect((await task.preCommit(new Map([[tp, 1n]]))).has(tp)).toBe(false);

      // Batch 1 is decided while batch 0 is in flight: version 4 of document 1 is stale, document 2 is new.
      const decided = g.decided('2');
      const second = task.put([
        sinkRecord({ topic, offset: 1n, key: { document_id: 1 }, version: 4n }),
        sinkRecord({ topic, offset: 2n, key: { document_id: 2 }, version: 1n }),
      ]);
      await decided;
      g.release();
      await second;
      g.release();
      await task.stop();
      expect(log.map((e) => [e.entityId, e.version])).toEqual([
        ['1', 5n],
        ['2', 1n],
      ]);
      expect(task.metrics()).toMatchObject({ delivered: 2, staleDropped: 1 });
    } finally {
      g.release();
      await task.stop();
    }
  });

  it('after close(partitions), vouches again only for what it finishes once the partition is back', async () => {
    const log: DeliveryEvent[] = [];
    const g = gated(log);
    const task = new LookupSinkTask({ wrapDestination: g.wrap });
    task.initialize(testContext({ kafka: access }));
    await task.start(props(`pipe_c_${sfx}`));
    const tp = { topic, partition: 0 };
    try {
      // put() returns once its batch is being sent (held at the gate).
      await task.put([
        sinkRecord({ topic, offset: 5n, key: { document_id: 1 }, version: 10n }),
        sinkRecord({ topic, offset: 6n, key: { document_id: 2 }, version: 10n }),
      ]);
      g.release();
      await task.flush();
      expect((await task.preCommit(new Map([[tp, 7n]]))).get(tp)).toBe(7n);

      // The partition moves away and comes back; the consumer resumes from the group's offset, 3.
      await task.close([tp]);
      await task.put([sinkRecord({ topic, offset: 3n, key: { document_id: 1 }, version: 11n })]);
      // Record 3 is still being sent: the old mark (7) must not vouch for it.
      expect((await task.preCommit(new Map([[tp, 4n]]))).has(tp)).toBe(false);
      g.release();
      await task.flush();
      expect((await task.preCommit(new Map([[tp, 4n]]))).get(tp)).toBe(4n);
    } finally {
      g.release();
      await task.stop();
    }
  });

  it('a failed send fails the next put() and preCommit, and its versions are not in the ledger', async () => {
    const log: DeliveryEvent[] = [];
    const g = gated(log);
    const name = `pipe_b_${sfx}`;
    const task = new LookupSinkTask({ wrapDestination: g.wrap });
    task.initialize(testContext({ kafka: access }));
    await task.start(props(name));
    const tp = { topic, partition: 0 };
    try {
      g.state.fail = true;
      await task.put([sinkRecord({ topic, offset: 0n, key: { document_id: 1 }, version: 7n })]);
      g.release();
      const next = task.put([sinkRecord({ topic, offset: 1n, key: { document_id: 2 }, version: 1n })]);
      await expect(next).rejects.toThrow(ErpStreamError);
      await expect(next).rejects.toThrow(/Delivering a batch to pipe_b_.*broker unreachable/);
      await expect(task.preCommit(new Map([[tp, 2n]]))).rejects.toThrow(/broker unreachable/);
      expect(log).toEqual([]);
      // What the ledger lists ahead of a send is held at version -1 (no version delivered; planner.ts intentWritesOf).
      const ledger = await db.query(`SELECT entity_id FROM ${schema}.ledger WHERE destination = $1 AND version >= 0`, [
        name,
      ]);
      expect(ledger.rows).toEqual([]);
    } finally {
      g.release();
      await task.stop();
    }
  });
});

describe('array parameters on PostgreSQL (ledger and park store)', () => {
  const awkward = ['a"b', 'c\\d', '{x,y}', 'NULL', ' spaced ', 'é ☃', "o'neil", ''];

  it('round-trips ids with quotes, backslashes, braces, commas and the word NULL', async () => {
    const expectedTargets = (id: string, i: number) =>
      i % 2 || i === 3
        ? []
        : [{ target: `t,${i}`, deliveredKey: i % 3 === 0 ? null : `k:"${id}",${i}`, version: 2n ** 62n + BigInt(i) }];
    const client = await PostgresClient.open(
      {
        url: pgUrl,
        user: null,
        password: null,
        urlKey: 'ledger.connection.url',
      },
      'erpstream-lookup-sink',
    );
    try {
      const ledger = new DeliveryLedger(client, `${schema}.ledger_arrays`);
      await ledger.init();
      await ledger.record(
        'd',
        'e',
        awkward.map((id, i) => ({
          entityId: id,
          version: 2n ** 62n + BigInt(i),
          target: i % 2 ? null : `t,${i}`,
          deleted: i === 3,
          // Keys as the kafka destination encodes them, quotes and commas included.
          deliveredKey: i % 3 === 0 ? null : `k:"${id}",${i}`,
          targets: expectedTargets(id, i),
        })),
      );
      // A lower version never overwrites a higher one, also when written as an array batch.
      await ledger.record('d', 'e', [
        {
          entityId: 'a"b',
          version: 1n,
          target: 'older',
          deleted: false,
          deliveredKey: 'older',
          targets: [{ target: 'older', deliveredKey: 'older', version: 1n }],
        },
      ]);
      const got = await ledger.get('d', 'e', [...awkward, 'absent']);
      expect([...got.keys()].sort()).toEqual([...awkward].sort());
      awkward.forEach((id, i) =>
        expect(got.get(id)).toEqual({
          version: 2n ** 62n + BigInt(i),
          target: i % 2 ? null : `t,${i}`,
          deleted: i === 3,
          deliveredKey: i % 3 === 0 ? null : `k:"${id}",${i}`,
          targets: expectedTargets(id, i),
          // when the row was last written (the console's lineage shows it)
          updatedAt: expect.any(Number),
        }),
      );

      const park = new ParkStore(client, `${schema}.parked_arrays`, 'd', 'e');
      await park.init();
      await park.put(
        awkward.map((id) => ({
          entityId: id,
          version: 3n,
          record: `{"k":"${id.replace(/["\\]/g, '\\$&')}"}`,
          reason: 'waiting, "quoted"',
          waitingOn: `d|person|${id}`,
          firstParkedAt: 1,
          nextCheckAt: 2,
          attempts: 0,
        })),
      );
      const parked = await park.get(awkward);
      expect(parked.size).toBe(awkward.length);
      expect(parked.get('{x,y}')).toMatchObject({
        reason: 'waiting, "quoted"',
        waitingOn: 'd|person|{x,y}',
        version: 3n,
      });
      expect((await park.waitingFor(['d|person|c\\d'])).map((p) => p.entityId)).toEqual(['c\\d']);
    } finally {
      await client.close();
    }
  });
});
