import { afterAll, describe, expect, it } from 'vitest';
import { KafkaPluginAccess, createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { HighWatermarks } from '../../../runtime/kafka/high-watermarks.js';
import { KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { readTopic } from '../../support/topics.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * Creating a transactional producer is Java's initTransactions(): once it resolved, the previous producer with the
 * same transactional id is fenced and its open transaction aborted. An exactly-once task relies on it to read its
 * offsets right after (read_committed, waiting for open transactions): without it, that read waited for the broker
 * to time the transaction out. Every way the runtime creates one (the worker's port, a plugin's writer) fences.
 */
describe('transactional producer', () => {
  const suffix = uniqueSuffix();
  const kafka = createKafka({ brokers, clientId: `it-h-eos-txp-${suffix}`, logLevel: 'nothing' });
  const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: `it-h-eos-txp-port-${suffix}` });
  const access = new KafkaPluginAccess(kafka, { clientId: `it-h-eos-txp-plugin-${suffix}` });
  const watermarks = new HighWatermarks(brokers, `it-h-eos-txp-hw-${suffix}`);

  afterAll(async () => {
    await Promise.allSettled([port.close(), watermarks.close()]);
  });

  /** Whether a transaction is open on the topic: its last stable offset stops short of its high watermark. */
  const openTransaction = async (topic: string): Promise<boolean> => {
    const admin = kafka.admin();
    await admin.connect();
    const stable = await admin.fetchTopicOffsets(topic);
    await admin.disconnect();
    const high = await watermarks.of(topic, [0]);
    return BigInt(stable[0]!.offset) < high.get(0)!;
  };

  /** Opens a transactional producer, commits one record 'live' to the topic in a transaction, closes it. */
  type Creator = (transactionalId: string, topic: string, fenced: () => Promise<void>) => Promise<void>;
  const creators: Array<[string, Creator]> = [
    [
      'KafkaJsPort.transactionalProducer (exactly-once source tasks)',
      async (transactionalId, topic, fenced) => {
        const producer = await port.transactionalProducer(transactionalId);
        try {
          await fenced();
          await producer.begin();
          await producer.send([
            { topic, partition: null, key: null, value: Buffer.from('live'), headers: [], timestamp: null },
          ]);
          await producer.commit();
        } finally {
          await producer.close();
        }
      },
    ],
    [
      "KafkaPluginAccess.writer({ transactionalId }) (a plugin's own transactions)",
      async (transactionalId, topic, fenced) => {
        const writer = await access.writer({ transactionalId });
        try {
          await fenced();
          await writer.transaction!((tx) => tx.send([{ topic, key: null, value: Buffer.from('live') }]));
        } finally {
          await writer.close();
        }
      },
    ],
  ];

  it.each(creators)(
    '%s fences the previous producer with its transactional id when created: its open transaction is aborted',
    async (label, create) => {
      const topic = `it-h-eos-txp-${creators.findIndex(([l]) => l === label)}-${suffix}`;
      const admin = kafka.admin();
      await admin.connect();
      await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
      await admin.disconnect();
      const transactionalId = topic;
      const zombie = createProducer(kafka, { transactionalId });
      await zombie.connect();
      const txn = await zombie.transaction();
      await txn.send({ topic, messages: [{ key: 'k', value: 'zombie' }] });
      await zombie.disconnect();
      expect(await openTransaction(topic)).toBe(true);

      await create(transactionalId, topic, async () => {
        // Aborted by the time the producer is there: a read_committed read to the end need not wait.
        expect(await openTransaction(topic)).toBe(false);
      });
      expect((await readTopic(brokers, topic)).map((r) => r.value)).toEqual(['live']);
    },
    60_000,
  );
});
