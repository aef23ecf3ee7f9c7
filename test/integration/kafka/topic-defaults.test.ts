import { afterAll, describe, expect, it } from 'vitest';
import { createKafka } from '../../../runtime/kafka/index.js';
import { KafkaJsPort } from '../../../runtime/worker/kafka-port.js';
import { requireEnv, uniqueSuffix } from '../env.js';

/** KIP-158/464: `topic.creation.default.* = -1` creates the worker's topics with the broker's own defaults. */
describe("topics the worker creates with -1 counts get the broker's defaults", () => {
  const brokers = requireEnv('KAFKA_BROKERS');
  const kafka = createKafka({ brokers, clientId: 'topic-defaults-it', logLevel: 'nothing' });
  const admin = kafka.admin();
  const port = new KafkaJsPort({ brokers: brokers.split(','), clientId: 'topic-defaults-port-it' });
  const topics: string[] = [];
  afterAll(async () => {
    await admin.deleteTopics({ topics }).catch(() => {});
    await admin.disconnect();
    await port.close();
  });

  it('num.partitions and default.replication.factor, read back from the broker', async () => {
    await admin.connect();
    const { brokers: nodes } = await admin.describeCluster();
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        { type: 4, name: String(nodes[0]!.nodeId), configNames: ['num.partitions', 'default.replication.factor'] },
      ],
    });
    const config = (name: string) =>
      Number(described.resources[0]!.configEntries.find((e) => e.configName === name)!.configValue);
    const topic = `it-topic-defaults-${uniqueSuffix()}`;
    topics.push(topic);
    await port.ensureTopic(topic, { partitions: -1, replicationFactor: -1 });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(meta.topics[0]!.partitions).toHaveLength(config('num.partitions'));
    expect(meta.topics[0]!.partitions[0]!.replicas).toHaveLength(config('default.replication.factor'));
  });
});
