import { describe, expect, it } from 'vitest';
import { createKafka, createProducer, ensureTopics } from '../../../runtime/kafka/index.js';
import { KafkaBasedLog } from '../../../runtime/worker/distributed/kafka-log.js';
import { readTopic } from '../../support/topics.js';
import { requireEnv, uniqueSuffix } from '../env.js';

const brokers = requireEnv('KAFKA_BROKERS');

/**
 * A broker lists a fetch's aborted transactions in the order they were aborted, not by first offset. kafkajs assumed
 * the latter and handed out the records of a transaction aborted after a later one (kafkajs-read-committed.ts) —
 * after a broker restart under exactly-once that was a sink reading records twice and a task resuming from the
 * offsets of an aborted transaction (records lost). Here two producers' transactions interleave on one partition
 * and are aborted in the reverse order, then both producers commit more: every read_committed reader of the
 * runtime (a sink task's consumer, the worker's internal-topic log) sees exactly the committed records.
 */
describe('read_committed on the real broker', () => {
  it('never hands out an aborted transaction and never drops a committed one, whatever the abort order', async () => {
    const suffix = uniqueSuffix();
    const topic = `it-read-committed-${suffix}`;
    const kafka = createKafka({ brokers, clientId: `it-read-committed-${suffix}`, logLevel: 'nothing' });
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const early = createProducer(kafka, { transactionalId: `it-rc-early-${suffix}` });
    const late = createProducer(kafka, { transactionalId: `it-rc-late-${suffix}` });
    await Promise.all([early.connect(), late.connect()]);
    const send = (t: Awaited<ReturnType<typeof early.transaction>>, keys: string[]) =>
      t.send({ topic, messages: keys.map((k) => ({ key: k, value: k })) });
    try {
      const committedBefore = await early.transaction();
      await send(committedBefore, ['c1', 'c2']);
      await committedBefore.commit();
      // "early" opens first; "late" opens inside it; "late" is aborted first, then "early".
      const e = await early.transaction();
      await send(e, ['aborted-early-1', 'aborted-early-2']);
      const l = await late.transaction();
      await send(l, ['aborted-late-1']);
      await send(e, ['aborted-early-3']);
      await l.abort();
      await e.abort();
      // Both producers go on: their committed records must not be taken for part of the aborted ones.
      const e2 = await early.transaction();
      await send(e2, ['c3']);
      const l2 = await late.transaction();
      await send(l2, ['c4']);
      await e2.commit();
      await l2.commit();
    } finally {
      await Promise.allSettled([early.disconnect(), late.disconnect()]);
    }

    const read = await readTopic(brokers, topic);
    expect(read.map((r) => r.key?.toString())).toEqual(['c1', 'c2', 'c3', 'c4']);

    // The worker's reader of its internal topics (offsets, configs, status) is a kafkajs consumer too.
    const seen: string[] = [];
    const log = new KafkaBasedLog(kafka, admin, topic, `it-rc-log-${suffix}`, (r) => seen.push(r.key ?? ''));
    try {
      await log.start();
      await log.readToEnd();
      expect(seen).toEqual(['c1', 'c2', 'c3', 'c4']);
    } finally {
      await log.stop();
      await admin.disconnect();
    }
  }, 120_000);
});
