import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { KafkaPluginAccess, createKafka } from '../../../../runtime/kafka/index.js';
import { requireEnv, uniqueSuffix } from '../../env.js';
import { type Reported, sinkRecord, testContext } from './harness.js';
import { registeredDocuments } from './registrations.js';

// The documented single-connector config (`${domain}.documents`, a LEFT JOIN on the registrations) with the
// registration table's change topic declared on the dependency: a document registered to several customers
// reaches each of them, a new registration delivers at once, a removed one withdraws (a tombstone), and an
// unregistered document waits without ever going to the DLQ.
const sfx = uniqueSuffix();
const docs = registeredDocuments(`ls_fan_${sfx}`);
const { schema, docTopic, regTopic } = docs;
const customer = (c: string) => `${c}_${sfx}`;
let db: pg.Client;
const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'lookup-sink-fan', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'lookup-sink-fan' });

function props(): Record<string, string> {
  return {
    'connector.class': 'LookupSink',
    topics: `${docTopic},${regTopic}`,
    ...docs.lookupProps(),
    'destination.type': 'kafka',
    'destination.name': `fan_${sfx}`,
    'destination.topic': '${domain}.documents',
    // Tiny on purpose: a registration record, not the backoff, must release; and nothing may expire.
    'park.max.duration.ms': '1',
  };
}

async function topic(c: string): Promise<Array<[string, string | null]>> {
  const out: Array<[string, string | null]> = [];
  await access.readAll(`${customer(c)}.documents`, (key, value) => {
    out.push([
      key!.toString(),
      value === null ? null : String((JSON.parse(value.toString()) as { title: string }).title),
    ]);
  });
  return out;
}

beforeAll(async () => {
  db = new pg.Client({ connectionString: requireEnv('PG_URL') });
  await db.connect();
  await docs.create(db);
});

afterAll(async () => {
  await docs.drop(db);
  await db.end();
});

describe('LookupSink fan-out, registration-driven delivery and withdrawal (PostgreSQL → Kafka)', () => {
  it('delivers to every registered customer, follows registrations as they come and go, never DLQs waiting', async () => {
    const dlq: Reported[] = [];
    const task = new LookupSinkTask();
    task.initialize(testContext({ kafka: access, dlq }));
    await task.start(props());
    let offset = 0n;
    let rev = 100n;
    const doc = async (id: number, title: string) => {
      await db.query(
        `INSERT INTO ${schema}.document VALUES ($1, $2) ON CONFLICT (document_id) DO UPDATE SET title = EXCLUDED.title`,
        [id, title],
      );
      return sinkRecord({ topic: docTopic, offset: offset++, key: { document_id: id }, version: ++rev });
    };
    const register = async (id: number, c: string) => {
      await db.query(`INSERT INTO ${schema}.document_domain VALUES ($1, $2)`, [id, customer(c)]);
      return docs.registered(offset++, id, customer(c));
    };
    const unregister = async (id: number, c: string) => {
      await db.query(`DELETE FROM ${schema}.document_domain WHERE document_id = $1 AND domain = $2`, [id, customer(c)]);
      return docs.unregistered(() => offset++, id, customer(c));
    };
    try {
      // Document 1 is registered to acme and globex before its first change; document 2 to nobody yet.
      const regs = [await register(1, 'acme'), await register(1, 'globex')];
      await task.put([...regs, await doc(1, 'one'), await doc(2, 'two')]);
      await task.flush();
      expect(await topic('acme')).toEqual([['1', 'one']]);
      expect(await topic('globex')).toEqual([['1', 'one']]);
      expect(task.metrics()).toMatchObject({ delivered: 2, parked: 1, waiting: 1 });

      // Far past park.max.duration.ms: an unregistered document is waiting, not an error.
      await new Promise((r) => setTimeout(r, 20));
      await task.checkParked();
      await db.query(`UPDATE ${schema}.parked SET next_check_at = 0`);
      await task.checkParked();
      expect(dlq).toEqual([]);

      // A registration arrives for document 2 (no change of the document): delivered at once, by the record.
      await task.put([await register(2, 'initech')]);
      await task.flush();
      expect(await topic('initech')).toEqual([['2', 'two']]);
      expect(task.metrics()).toMatchObject({ parked: 0, waiting: 0, released: 1 });

      // Document 1 leaves globex: globex gets a tombstone; acme keeps it. The next change reaches acme only.
      await task.put(await unregister(1, 'globex'));
      await task.put([await doc(1, 'one v2')]);
      await task.flush();
      expect(await topic('globex')).toEqual([
        ['1', 'one'],
        ['1', null],
      ]);
      expect(await topic('acme')).toEqual([
        ['1', 'one'],
        ['1', 'one v2'],
      ]);

      // Document 1 leaves acme too: it waits again; registering it to globex again delivers the current state.
      await task.put(await unregister(1, 'acme'));
      await task.flush();
      expect((await topic('acme')).at(-1)).toEqual(['1', null]);
      expect(task.metrics()).toMatchObject({ waiting: 1 });
      await task.put([await register(1, 'globex')]);
      await task.flush();
      expect((await topic('globex')).at(-1)).toEqual(['1', 'one v2']);

      // A replay of everything changes nothing (same versions, same registrations).
      const before = task.metrics();
      await task.put([
        sinkRecord({ topic: docTopic, offset: 0n, key: { document_id: 1 }, version: 101n }),
        sinkRecord({ topic: docTopic, offset: 1n, key: { document_id: 2 }, version: 102n }),
      ]);
      await task.flush();
      expect(task.metrics().delivered).toBe(before.delivered);
      expect(task.metrics().withdrawn).toBe(2);
      expect(dlq).toEqual([]);
    } finally {
      await task.stop();
    }
  });
});
