import {
  ConfigError,
  type KafkaAccess,
  type KafkaWriter,
  type OutgoingKafkaRecord,
} from '../../../runtime/api/index.js';
import { exactJson } from '../json.js';
import type { Row } from '../sql/client.js';
import { type TextTemplate, renderTemplate } from '../template.js';
import type { Delivery, Destination, Rejection, Removal } from './destination.js';

export const VERSION_HEADER = 'erpstream.version';
export const ENTITY_HEADER = 'erpstream.entity';
export const ID_HEADER = 'erpstream.id';

/**
 * Delivers rows as JSON to a topic per customer/domain (from a template), keyed by entity id, with the version
 * in a header so consumers can drop what they already hold. A removed row becomes a tombstone. Topics are created
 * explicitly on first use (never auto-created).
 */
export class KafkaDestination implements Destination {
  private writer: KafkaWriter | null = null;
  private readonly knownTopics = new Set<string>();

  constructor(
    private readonly kafka: KafkaAccess | undefined,
    private readonly template: TextTemplate,
    private readonly entity: string,
    private readonly partitions: number,
    /** Set for exactly-once batches: every send() is one Kafka transaction. */
    private readonly transactionalId: string | null = null,
  ) {
    if (!kafka) {
      throw new ConfigError(
        'destination.type=kafka needs the worker to lend Kafka access to the task (SinkTaskContext.kafka is absent)',
        'destination.type',
      );
    }
  }

  targetOf(row: Row, entityId: string): string {
    return renderTemplate(this.template, row, { entity: this.entity, id: entityId });
  }

  private async send(records: OutgoingKafkaRecord[]): Promise<void> {
    if (records.length === 0) return;
    const fresh = [...new Set(records.map((r) => r.topic))].filter((t) => !this.knownTopics.has(t));
    if (fresh.length > 0) {
      await this.kafka!.ensureTopics(fresh.map((topic) => ({ topic, partitions: this.partitions })));
      for (const t of fresh) this.knownTopics.add(t);
    }
    this.writer ??= await this.kafka!.writer({
      clientId: `erpstream-lookup-sink-${this.entity}`,
      ...(this.transactionalId === null ? {} : { transactionalId: this.transactionalId }),
    });
    if (this.transactionalId !== null && this.writer.transaction) {
      await this.writer.transaction((tx) => tx.send(records));
    } else {
      await this.writer.send(records);
    }
  }

  private headers(entityId: string, version: bigint): Record<string, string> {
    return { [VERSION_HEADER]: version.toString(), [ENTITY_HEADER]: this.entity, [ID_HEADER]: entityId };
  }

  async deliver(items: readonly Delivery[]): Promise<readonly Rejection[]> {
    await this.send(
      items.map((d) => ({
        topic: d.target,
        key: Buffer.from(d.entityId, 'utf8'),
        value: Buffer.from(exactJson(d.row), 'utf8'),
        headers: this.headers(d.entityId, d.version),
      })),
    );
    return [];
  }

  async remove(items: readonly Removal[]): Promise<readonly Rejection[]> {
    await this.send(
      items.map((r) => ({
        topic: r.target,
        key: Buffer.from(r.entityId, 'utf8'),
        value: null,
        headers: this.headers(r.entityId, r.version),
      })),
    );
    return [];
  }

  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = null;
  }
}
