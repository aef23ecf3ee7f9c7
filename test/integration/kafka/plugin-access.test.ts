import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../runtime/kafka/index.js';
import { KafkaPluginAccess } from '../../../runtime/kafka/index.js';
import { KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';

const kafka = createKafka({ brokers: requireEnv('KAFKA_BROKERS'), clientId: 'plugin-access-it', logLevel: 'nothing' });
const access = new KafkaPluginAccess(kafka, { clientId: 'plugin-access-it' });
const sfx = uniqueSuffix();

async function readAll(topic: string) {
  const out: Array<{ key: string | null; value: string | null; partition: number }> = [];
  await access.readAll(topic, (key, value, partition) =>
    out.push({ key: key?.toString() ?? null, value: value?.toString() ?? null, partition }),
  );
  return out;
}

/**
 * Reads until `count` records are visible: a transaction's commit markers reach the partitions just after commit()
 * resolves, and a read_committed read sees the records only from then on.
 */
async function readCommitted(topic: string, count: number) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const seen = await readAll(topic);
    if (seen.length >= count || Date.now() > deadline) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('KafkaPluginAccess (KafkaAccess for plugins)', () => {
  const writers: Array<{ close(): Promise<void> }> = [];
  afterAll(async () => {
    for (const w of writers) await w.close();
  });

  it('creates topics, reports each record’s partition and offset, and reads a topic to its end', async () => {
    const topic = `pa.records.${sfx}`;
    await access.ensureTopics([{ topic, partitions: 3, configs: { 'cleanup.policy': 'compact' } }]);
    await access.ensureTopics([{ topic, partitions: 3 }]); // idempotent
    const w = await access.writer();
    writers.push(w);
    const records = ['a', 'b', 'c', 'a', 'b', 'a'].map((k, i) => ({
      topic,
      key: Buffer.from(k),
      value: i === 5 ? null : Buffer.from(`v${i}`),
      headers: { 'erpstream.version': String(i) },
    }));
    const meta = await w.send(records);
    expect(meta).toHaveLength(6);
    // Same key, same partition, consecutive offsets in send order.
    const ofKey = (k: string) => meta.filter((_, i) => records[i]!.key.toString() === k);
    expect(new Set(ofKey('a').map((m) => m.partition)).size).toBe(1);
    const aOffsets = ofKey('a').map((m) => m.offset);
    expect(aOffsets).toEqual([...aOffsets].sort((x, y) => (x < y ? -1 : 1)));

    const seen = await readAll(topic);
    expect(seen).toHaveLength(6);
    expect(seen.filter((r) => r.key === 'a').map((r) => r.value)).toEqual(['v0', 'v3', null]);
    for (const [i, m] of meta.entries()) {
      expect(
        seen.find((r) => r.value === (records[i]!.value?.toString() ?? null) && r.key === records[i]!.key.toString())!
          .partition,
      ).toBe(m.partition);
    }
  });

  it('reads an empty topic without waiting', async () => {
    const topic = `pa.empty2.${sfx}`;
    await access.ensureTopics([{ topic }]);
    const started = Date.now();
    expect(await readAll(topic)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('writes in transactions: committed records are read, aborted ones never are', async () => {
    const topic = `pa.tx.${sfx}`;
    await access.ensureTopics([{ topic }]);
    const w = await access.writer({ transactionalId: `pa-tx-${sfx}` });
    writers.push(w);
    await w.transaction!(async (tx) => {
      await tx.send([{ topic, key: Buffer.from('k'), value: Buffer.from('committed') }]);
    });
    await expect(
      w.transaction!(async (tx) => {
        await tx.send([{ topic, key: Buffer.from('k'), value: Buffer.from('aborted') }]);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    await expect(w.send([{ topic, key: null, value: null }])).rejects.toThrow(/transactional/);
    expect((await readCommitted(topic, 1)).map((r) => r.value)).toEqual(['committed']);
  });

  it('commits a transaction larger than the broker takes in one batch (several requests, one transaction)', async () => {
    const topic = `pa.tx.large.${sfx}`;
    await access.ensureTopics([{ topic, partitions: 1 }]);
    const w = await access.writer({ transactionalId: `pa-tx-large-${sfx}` });
    writers.push(w);
    // 3,000 records of 1 KB to one partition: three times the broker's default max.message.bytes.
    const records = Array.from({ length: 3000 }, (_, i) => ({
      topic,
      key: Buffer.from(String(i)),
      value: Buffer.alloc(1024, 97 + (i % 26)),
    }));
    await w.transaction!(async (tx) => {
      await tx.send(records);
    });
    const read = await readCommitted(topic, records.length);
    expect(read.map((r) => r.key)).toEqual(records.map((_, i) => String(i)));
  });
});

describe('KafkaJsPort transactional producer (exactly-once sources)', () => {
  it('sends a transaction larger than one batch in order, with each record’s offset', async () => {
    const topic = `pa.port.tx.large.${sfx}`;
    await access.ensureTopics([{ topic, partitions: 1 }]);
    const port = new KafkaJsPort({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: 'pa-port-it' });
    const p = await port.transactionalProducer(`pa-port-tx-${sfx}`);
    try {
      const records = Array.from({ length: 3000 }, (_, i) => ({
        topic,
        partition: 0,
        key: Buffer.from(String(i)),
        value: Buffer.alloc(1024, 97 + (i % 26)),
        headers: [] as Array<[string, Buffer | null]>,
        timestamp: null,
      }));
      await p.begin();
      const acks = await p.send(records);
      await p.commit();
      expect(acks.map((a) => a.offset)).toEqual(records.map((_, i) => BigInt(i)));
      expect((await readCommitted(topic, records.length)).map((r) => r.key)).toEqual(records.map((_, i) => String(i)));
    } finally {
      await p.close();
      await port.close();
    }
  });
});
