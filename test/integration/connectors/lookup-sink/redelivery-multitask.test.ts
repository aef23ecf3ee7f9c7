import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask, lookupSinkPlugin } from '../../../../connectors/lookup-sink/index.js';
import { slotOf } from '../../../../connectors/lookup-sink/redelivery.js';
import type { Destination } from '../../../../connectors/lookup-sink/destinations/destination.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Logger, silentLogger } from '../../../../runtime/api/index.js';
import { sinkRecord, testContext } from './harness.js';

// Targeted re-delivery with tasks.max > 1 and a Kafka destination. The queue is shared by the tasks by a hash of the
// entity id, not by the input partition the entity's live records arrive on, so the task re-delivering an entity is
// in general not the one delivering its live changes, and nothing orders the two. A Kafka topic has no version guard:
// a re-delivered version read from the origin just before a newer live change could land after it (the topic going
// v7, v6: backwards, which our contract forbids). The sink therefore refuses that combination (submit fails with
// LOOKUP_SINK_REDELIVERY_UNSAFE) and its tasks leave rows queued before a scale-out pending. This test races a
// repair with live changes on the same entities against the real Kafka topic; on a sink that re-delivers in that
// combination it sees the backwards step within a few rounds.
const pgUrl = requireEnv('PG_URL');
const schema = `ls_redeliver_mt_${uniqueSuffix()}`;
const topic = `${schema}.acme_docs`;
let db: pg.Client;

const props = (tasksMax: number): Record<string, string> => ({
  'connector.class': 'LookupSink',
  topics: 'documents',
  'tasks.max': String(tasksMax),
  'lookup.connection.url': pgUrl,
  'lookup.query': `SELECT d.document_id, d.title, d.rev FROM ${schema}.document d WHERE d.document_id IN (:ids)`,
  'lookup.key.columns': 'document_id',
  'lookup.version.column': 'rev',
  'entity.name': 'document',
  'destination.type': 'kafka',
  'destination.topic': topic,
  'destination.name': 'acme_kafka',
  'ledger.table': `${schema}.ledger`,
  'park.table': `${schema}.parked`,
  'redelivery.table': `${schema}.redelivery`,
  'park.check.interval.ms': '3600000',
  'redelivery.poll.interval.ms': '3600000',
});

const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'redelivery-mt-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'redelivery-mt-it' });

async function setDoc(id: number, title: string, rev: number): Promise<void> {
  await db.query(
    `INSERT INTO ${schema}.document VALUES ($1, $2, $3) ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title, rev = EXCLUDED.rev`,
    [id, title, rev],
  );
}

/** A slow producer on the re-delivering task: its send lands a little after it was decided (a GC pause, a retry). */
const slowSends =
  (ms: number) =>
  (d: Destination): Destination => ({
    targetOf: (row, id) => d.targetOf(row, id),
    ...(d.sharesTransactionsWith ? { sharesTransactionsWith: (db) => d.sharesTransactionsWith!(db) } : {}),
    async deliver(items, alongside) {
      await new Promise((r) => setTimeout(r, ms));
      return d.deliver(items, alongside);
    },
    remove: (items) => d.remove(items),
    metrics: () => d.metrics?.() ?? {},
    close: () => d.close(),
  });

/** Warnings a task logged (the refusal is one). */
const warnings: Array<{ msg: string; fields?: Record<string, unknown> }> = [];
const warnLogger: Logger = {
  ...silentLogger,
  warn: (msg, fields) => warnings.push({ msg, ...(fields ? { fields } : {}) }),
  child: () => warnLogger,
};

async function startTask(
  taskId: number,
  tasksMax: number,
  wrap?: (d: Destination) => Destination,
): Promise<LookupSinkTask> {
  const task = new LookupSinkTask(wrap ? { wrapDestination: wrap } : {});
  task.initialize({ ...testContext({ kafka: access }), logger: warnLogger, taskId, connectorName: 'acme-sink' });
  await task.start(props(tasksMax));
  return task;
}

/** Each key's versions in topic order, and its last value. */
async function topicState(): Promise<{ versions: Map<string, bigint[]>; last: Map<string, string> }> {
  const versions = new Map<string, bigint[]>();
  const last = new Map<string, string>();
  await access.readAll(topic, (key, value, _partition, meta) => {
    if (key === null || value === null) return;
    const k = key.toString();
    versions.set(k, [...(versions.get(k) ?? []), BigInt(meta.headers['erpstream.version']!.toString())]);
    last.set(k, value.toString());
  });
  return { versions, last };
}

const backwardsOf = (seen: readonly bigint[]) =>
  seen.flatMap((v, i) => (i > 0 && v < seen[i - 1]! ? [`${seen[i - 1]} -> ${v}`] : []));

async function drain(task: LookupSinkTask): Promise<number> {
  let n = 0;
  for (let k = 0; k < 1000; k++) {
    const took = await task.redeliverQueued();
    if (took === 0) return n;
    n += took;
  }
  throw new Error('the queue never drained');
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`CREATE SCHEMA ${schema}`);
  await db.query(`CREATE TABLE ${schema}.document (document_id int PRIMARY KEY, title text, rev bigint NOT NULL)`);
  await access.ensureTopics([{ topic, partitions: 1 }]);
});

afterAll(async () => {
  await db.query(`DROP SCHEMA ${schema} CASCADE`);
  await db.end();
});

describe('LookupSink targeted re-delivery, tasks.max > 1, Kafka destination', () => {
  it('refuses to queue a repair: a re-delivering task is not the task of the entity live records', async () => {
    const a = await lookupSinkPlugin.redelivery({ connector: 'acme-sink', config: props(2) });
    try {
      await expect(
        a.submit({ requestKey: 'refused', operationId: null, items: [[{ entityId: '1', action: 'deliver' }]] }),
      ).rejects.toMatchObject({ code: 'LOOKUP_SINK_REDELIVERY_UNSAFE', message: expect.stringMatching(/tasks\.max/) });
    } finally {
      await a.close();
    }
  });

  it('a repair racing live changes on the same entities: the topic versions per key never go backwards', async () => {
    // Entities whose queue slot belongs to task 0; their live records reach task 1 (as another input partition would).
    const ids = Array.from({ length: 200 }, (_, i) => 100 + i)
      .filter((id) => slotOf(String(id)) % 2 === 0)
      .slice(0, 3);
    for (const id of ids) await setDoc(id, `d${id}-0`, 100);
    const redeliverer = await startTask(0, 2, slowSends(40));
    const live = await startTask(1, 2);
    // Rows queued while the connector still ran one task (a scale-out after a repair was queued): the admin of the
    // one-task config accepts them, the two tasks then hold the queue.
    const a = await lookupSinkPlugin.redelivery({ connector: 'acme-sink', config: props(1) });
    let offset = 0;
    const putLive = async (rev: number) => {
      await live.put(
        ids.map((id, i) =>
          sinkRecord({ topic: 'documents', offset: BigInt(offset + i), key: id, version: BigInt(rev) }),
        ),
      );
      offset += ids.length;
    };
    try {
      await putLive(100);
      await live.flush();
      const rounds = Number(process.env.ERPSTREAM_SEEDS ?? 15);
      let first: string | undefined;
      for (let round = 1; round <= rounds; round++) {
        const r = await a.submit({
          requestKey: `mt-race:${round}`,
          operationId: null,
          items: [ids.map((id) => ({ entityId: String(id), action: 'deliver' as const }))],
        });
        first ??= r.requestId;
        const change = (async () => {
          await new Promise((r) => setTimeout(r, Math.random() * 10));
          for (const id of ids) await setDoc(id, `d${id}-${round}`, 100 + round);
          await putLive(100 + round);
          await live.flush();
        })();
        await Promise.all([drain(redeliverer), change]);
        await redeliverer.flush();
      }
      const { versions, last } = await topicState();
      for (const id of ids) {
        expect({ id, backwards: backwardsOf(versions.get(String(id)) ?? []) }).toEqual({ id, backwards: [] });
        expect(JSON.parse(last.get(String(id))!)).toMatchObject({ title: `d${id}-${rounds}` });
      }
      // Nothing was half done: the rows wait (the first request holds them), and the task said why, once.
      expect(await a.progress(first!)).toMatchObject({ total: ids.length, pending: ids.length, done: false });
      const refused = warnings.filter((w) => w.fields?.code === 'LOOKUP_SINK_REDELIVERY_UNSAFE');
      expect(refused).toHaveLength(1);
      expect(String(refused[0]!.fields?.reason)).toMatch(/tasks\.max=2/);
      await Promise.all([redeliverer.stop(), live.stop()]);
      // Back to one task (which gets every input partition): the pending rows are done, still never backwards.
      const single = await startTask(0, 1, slowSends(40));
      try {
        expect(await drain(single)).toBe(ids.length);
        await single.flush();
      } finally {
        await single.stop();
      }
      expect(await a.progress(first!)).toMatchObject({ pending: 0, delivered: ids.length, done: true });
      const after = await topicState();
      for (const id of ids) {
        const seen = after.versions.get(String(id)) ?? [];
        expect({ id, backwards: backwardsOf(seen) }).toEqual({ id, backwards: [] });
        expect(seen.at(-1)).toBe(BigInt(100 + rounds));
      }
    } finally {
      await a.close();
      await Promise.all([redeliverer.stop(), live.stop()]).catch(() => {});
    }
  }, 120_000);
});
