import type { GeneratedConnector } from '../../integrations/expand.js';
import { type Admin, type Consumer, type Kafka, createConsumer } from '../../runtime/kafka/index.js';
import { RecordDecoder, decodeMessage, keyId } from '../commands/tail.js';
import type { DeliveredRows, DlqRecord } from './summary.js';
import type { Entity } from './erp/simulator.js';

/**
 * The demo's Kafka side: every run gets its own topic names (a prefix) and connector names, so runs on a
 * shared cluster never see each other's records; a collector reads the customers' destination and
 * dead-letter topics to count what was delivered; lag comes from the sinks' consumer groups.
 */

const TOPIC_KEYS = ['topic.prefix', 'destination.topic', 'errors.deadletterqueue.topic.name'] as const;

/** Rewrites the expanded connectors so topics start with `topicPrefix` and connector names with `namePrefix`. */
export function namespaceConnectors(
  connectors: readonly GeneratedConnector[],
  topicPrefix: string,
  namePrefix: string,
  extra: (c: GeneratedConnector) => Record<string, string> = () => ({}),
): GeneratedConnector[] {
  return connectors.map((c) => {
    const config = { ...c.config };
    for (const key of TOPIC_KEYS) if (config[key] !== undefined) config[key] = topicPrefix + config[key];
    const prefixed = (list: string) =>
      list
        .split(',')
        .map((t) => topicPrefix + t.trim())
        .join(',');
    if (config.topics !== undefined) config.topics = prefixed(config.topics);
    // A lookup sink's dependency topics (registrations) and the predicate that keeps its routing off them.
    for (const key of Object.keys(config)) {
      if (/^dependencies\.[^.]+\.topic$/.test(key)) config[key] = prefixed(config[key]!);
    }
    const pattern = 'predicates.dependencyTopics.pattern';
    if (config[pattern] !== undefined) {
      const escaped = topicPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      config[pattern] = config[pattern]
        .split('|')
        .map((alt) => escaped + alt)
        .join('|');
    }
    const name = namePrefix + c.name;
    config.name = name;
    Object.assign(config, extra(c));
    return { ...c, name, config };
  });
}

/** Where one customer's entity is delivered, read from its sink's config. */
export interface SinkTarget {
  connector: string;
  customer: string;
  entity: Entity;
  inputTopics: string[];
  destinationTopic: string;
  dlqTopic: string | null;
}

export function sinkTargets(connectors: readonly GeneratedConnector[]): SinkTarget[] {
  return connectors
    .filter((c) => c.role === 'sink' && c.config['destination.topic'] !== undefined)
    .map((c) => ({
      connector: c.name,
      customer: c.integrations[0]!,
      entity: c.config['entity.name'] as Entity,
      inputTopics: (c.config.topics ?? '').split(',').filter(Boolean),
      destinationTopic: c.config['destination.topic']!,
      dlqTopic: c.config['errors.deadletterqueue.topic.name'] ?? null,
    }));
}

/** Sums `name{…connector="<c>"…} value` lines of a Prometheus text page for the given connectors. */
export function sumMetric(text: string, name: string, connectors: ReadonlySet<string>): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const connector = /connector="([^"]*)"/.exec(line)?.[1];
    if (connector === undefined || !connectors.has(connector)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) total += value;
  }
  return total;
}

/** Records on the sinks' input topics that their consumer groups (`connect-<name>`) have not committed. */
export async function sinkLag(admin: Admin, targets: readonly SinkTarget[]): Promise<number> {
  const ends = new Map<string, Map<number, bigint>>();
  let lag = 0n;
  for (const t of targets) {
    for (const topic of t.inputTopics) {
      if (!ends.has(topic)) {
        const offsets = await admin.fetchTopicOffsets(topic);
        ends.set(topic, new Map(offsets.map((o) => [o.partition, BigInt(o.high)])));
      }
    }
    const committed = await admin.fetchOffsets({ groupId: `connect-${t.connector}`, topics: t.inputTopics });
    for (const { topic, partitions } of committed) {
      for (const p of partitions) {
        const end = ends.get(topic)?.get(p.partition) ?? 0n;
        const at = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
        if (end > at) lag += end - at;
      }
    }
  }
  return Number(lag);
}

/**
 * Reads the destination and dead-letter topics from the beginning: the latest record per id (a tombstone
 * removes it), and every dead letter with the id from its key and Connect's error message header.
 */
export class DeliveryCollector {
  private consumer: Consumer | undefined;
  /** Destination topic → id → the latest record's version header, or null after a tombstone. */
  private readonly latest = new Map<string, Map<string, string | null>>();
  /** Destination topic → the last row delivered on it (a sample of what the customer receives). */
  private readonly lastRow = new Map<string, { id: string; value: string }>();
  readonly deadLetters: DlqRecord[] = [];
  private readonly decoder: RecordDecoder;
  failure: unknown;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly targets: readonly SinkTarget[],
    registryUrl: string | undefined,
  ) {
    this.decoder = new RecordDecoder({ registryUrl });
  }

  async start(): Promise<void> {
    const destinations = new Set(this.targets.map((t) => t.destinationTopic));
    const dlqs = new Map<string, string>();
    for (const t of this.targets) if (t.dlqTopic) dlqs.set(t.dlqTopic, t.customer);
    const consumer = createConsumer(this.kafka, { groupId: this.groupId, maxWaitTimeInMs: 200 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({ topics: [...destinations, ...dlqs.keys()], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        try {
          if (destinations.has(topic)) {
            const id = message.key?.toString('utf8');
            if (id === undefined) return;
            let ids = this.latest.get(topic);
            if (!ids) this.latest.set(topic, (ids = new Map()));
            const header = message.headers?.['erpstream.version'];
            const version = (Array.isArray(header) ? header[0] : header)?.toString() ?? '';
            const removed = message.value === null || message.value === undefined;
            ids.set(id, removed ? null : version);
            if (!removed) this.lastRow.set(topic, { id, value: message.value!.toString('utf8') });
            return;
          }
          const record = await decodeMessage(this.decoder, topic, partition, message);
          const key = await this.decoder.decode(topic, message.key ?? null, true);
          this.deadLetters.push({
            customer: dlqs.get(topic)!,
            topic,
            id: keyId(key),
            reason: record.headers['__connect.errors.exception.message'] ?? null,
          });
        } catch (error) {
          this.failure = error;
        }
      },
    });
  }

  delivered(): DeliveredRows[] {
    return this.targets.map((t) => {
      const ids = new Set<string>();
      const versions = new Map<string, string>();
      for (const [id, version] of this.latest.get(t.destinationTopic) ?? []) {
        if (version === null) continue;
        ids.add(id);
        versions.set(id, version);
      }
      const sample = this.lastRow.get(t.destinationTopic) ?? null;
      return { customer: t.customer, entity: t.entity, topic: t.destinationTopic, ids, versions, sample };
    });
  }

  deliveredCount(): number {
    return this.delivered().reduce((n, d) => n + d.ids.size, 0);
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
  }
}
