import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Producer } from '@platformatic/kafka';
import { afterAll, describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../runtime/kafka/index.js';
import { KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from '../worker/distributed/cluster.js';

const brokers = requireEnv('KAFKA_BROKERS');

/** The stack's Kafka client jars (scripts/stack links lib/broker to the running broker's). */
function brokerJars(): string {
  const stackDir = process.env.ERPSTREAM_STACK_DIR?.trim();
  if (!stackDir) throw new Error('ERPSTREAM_STACK_DIR is not set: eval "$(scripts/stack env)"');
  const dir = join(stackDir, 'lib', 'broker');
  if (!existsSync(dir)) throw new Error(`No Kafka jars in ${dir}: scripts/stack up installs them`);
  return `${dir}/*`;
}

/** N records written by Kafka's Java producer with the given compression.type. */
async function javaProduce(topic: string, codec: string, n: number): Promise<void> {
  const source = fileURLToPath(new URL('./JavaCodecProducer.java', import.meta.url));
  const child = spawn('java', ['-cp', brokerJars(), source, brokers, topic, codec, String(n)], { stdio: 'pipe' });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`JavaCodecProducer exited with ${code}: ${err.slice(-2000)}`);
}

/** What both producers write: JavaCodecProducer.java writes the same values. */
const valuesOf = (codec: string) => Array.from({ length: 200 }, (_, i) => `${codec}-${i}-${'x'.repeat(i % 50)}`);

/**
 * Topics written by other producers are often compressed with snappy, lz4 or zstd (Java clients and brokers with
 * compression.type set). A sink task's consumer must read every codec Kafka has, not only gzip: without them it
 * failed each fetch and the sink stalled without a word.
 */
describe('a sink consumer reads record batches in every Kafka compression codec', () => {
  const kafka = createKafka({ brokers, clientId: 'it-codecs', logLevel: 'nothing' });
  const admin = kafka.admin();
  const topics: string[] = [];
  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
  });

  async function newTopic(name: string): Promise<string> {
    const topic = `it-codec-${name}-${uniqueSuffix()}`;
    topics.push(topic);
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 1 }]);
    return topic;
  }

  async function expectRead(topic: string, values: string[]): Promise<void> {
    const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: 'it-codecs' });
    const consumer = await port.consumer(`it-codecs-${uniqueSuffix()}`, 'it-codecs');
    const seen: string[] = [];
    try {
      void consumer.run({ topics: [topic] }, async (records) => {
        for (const r of records) seen.push(r.value!.toString());
      });
      await waitFor(() => seen.length >= values.length, 30_000, `${values.length} records of ${topic}`);
      expect(seen).toEqual(values);
    } finally {
      await consumer.close();
      await port.close();
    }
  }

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    '%s, written by the data-path client',
    async (codec) => {
      const topic = await newTopic(codec);
      const values = valuesOf(codec);
      const producer = new Producer({
        clientId: 'it-codecs',
        bootstrapBrokers: brokers.split(','),
        autocreateTopics: false,
      });
      try {
        await producer.send({
          messages: values.map((v, i) => ({ topic, partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from(v) })),
          compression: codec,
        });
      } finally {
        await producer.close();
      }
      await expectRead(topic, values);
    },
    60_000,
  );

  it.each(['gzip', 'snappy', 'lz4', 'zstd'])(
    "%s, written by Kafka's Java producer",
    async (codec) => {
      const topic = await newTopic(`java-${codec}`);
      const values = valuesOf(codec);
      await javaProduce(topic, codec, values.length);
      await expectRead(topic, values);
    },
    90_000,
  );

  it.each(['snappy', 'lz4', 'zstd'] as const)(
    'producer.compression.type=%s: the worker writes it on the data path and in exactly-once transactions',
    async (codec) => {
      const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: 'it-codecs-out' });
      const plain = await newTopic(`out-${codec}`);
      const transactional = await newTopic(`out-tx-${codec}`);
      const values = valuesOf(codec);
      const records = (topic: string) =>
        values.map((v, i) => ({
          topic,
          partition: 0,
          key: Buffer.from(`k${i}`),
          value: Buffer.from(v),
          headers: [],
          timestamp: null,
        }));
      try {
        const producer = await port.producer('it-codecs-out', { compression: codec });
        await producer.send(records(plain));
        await producer.close();
        const tx = await port.transactionalProducer!(`it-codecs-tx-${uniqueSuffix()}`, { compression: codec });
        await tx.begin();
        await tx.send(records(transactional));
        await tx.commit();
        await tx.close();
      } finally {
        await port.close();
      }
      await expectRead(plain, values);
      await expectRead(transactional, values);
    },
    90_000,
  );
});
