import { describe, expect, it } from 'vitest';
import { createKafka, ensureTopics } from '../../../runtime/kafka/index.js';
import { type ConsumerPort, KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';
import { waitFor } from './distributed/cluster.js';

type Assigned = Array<{ topic: string; partition: number }>;
const brokers = requireEnv('KAFKA_BROKERS').split(',');
const sorted = (a: Assigned) => a.map((p) => `${p.topic}-${p.partition}`).sort();

/**
 * The worker's consumer reports each rebalance's assignment (real Kafka, two members of one group), which is
 * what keeps a sink task from committing partitions another member now owns.
 */
describe('consumer assignment (real Kafka)', () => {
  it('tells each member its partitions after every rebalance, before their records', async () => {
    const topic = `it-assign-${uniqueSuffix()}`;
    const admin = createKafka({ brokers, clientId: 'it-assign' }).admin();
    await admin.connect();
    await ensureTopics(admin, [{ topic, numPartitions: 2 }]);
    await admin.disconnect();
    const group = `it-assign-${uniqueSuffix()}`;
    const port = new KafkaJsPort({ brokers, clientId: 'it-assign' });
    const seen: Assigned[][] = [[], []];
    const consumers: ConsumerPort[] = [];
    try {
      const start = async (i: number) => {
        const c = await port.consumer(group, `it-assign-${i}`);
        consumers.push(c);
        await c.run(
          { topics: [topic] },
          async () => {},
          (partitions) => void seen[i]!.push(partitions),
        );
      };
      await start(0);
      await waitFor(() => seen[0]!.length > 0 && seen[0]!.at(-1)!.length === 2, 30_000, 'first member owns both');
      expect(sorted(seen[0]!.at(-1)!)).toEqual([`${topic}-0`, `${topic}-1`]);

      await start(1);
      await waitFor(
        () => seen[1]!.length > 0 && seen[0]!.at(-1)!.length === 1 && seen[1]!.at(-1)!.length === 1,
        30_000,
        'one partition each',
      );
      expect(sorted([...seen[0]!.at(-1)!, ...seen[1]!.at(-1)!])).toEqual([`${topic}-0`, `${topic}-1`]);
    } finally {
      for (const c of consumers) await c.close();
      await port.close();
    }
  }, 90_000);
});
