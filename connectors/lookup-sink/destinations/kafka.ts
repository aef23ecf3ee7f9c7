import {
  ConfigError,
  type Headers,
  type KafkaAccess,
  type KafkaWriter,
  type OutgoingKafkaRecord,
} from '../../../runtime/api/index.js';
import { exactJson } from '../json.js';
import type { Row } from '../sql/client.js';
import { type TextTemplate, renderTemplate } from '../template.js';
import type { Delivery, Destination, Rejection, Removal } from './destination.js';

// The delivery headers live in record-fields.ts (shaping sets them, this destination and reconcile read them).
import { ENTITY_HEADER, ID_HEADER, VERSION_HEADER } from '../record-fields.js';
export { ENTITY_HEADER, ID_HEADER, VERSION_HEADER };

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
    // Kafka refuses longer topic names, and a CreateTopics that fails fails the whole batch.
    return renderTemplate(
      this.template,
      row,
      { entity: this.entity, id: entityId },
      249,
      'a Kafka topic name may have',
    );
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
      items.map((d) =>
        d.shaped
          ? {
              topic: d.target,
              key: keyBytes(d.shaped.key),
              value: d.shaped.value === null || d.shaped.value === undefined ? null : jsonBytes(d.shaped.value),
              headers: headerValues(d.shaped.headers),
            }
          : {
              topic: d.target,
              key: Buffer.from(d.entityId, 'utf8'),
              value: jsonBytes(d.row),
              headers: this.headers(d.entityId, d.version),
            },
      ),
    );
    return [];
  }

  /** The shaped key's bytes for the ledger: `b64:` + base64, or `null` for a record the chain left without a key. */
  deliveredKey(item: Delivery): string | null {
    if (!item.shaped) return null;
    const bytes = keyBytes(item.shaped.key);
    return bytes === null ? NULL_KEY : `${B64}${bytes.toString('base64')}`;
  }

  async remove(items: readonly Removal[]): Promise<readonly Rejection[]> {
    await this.send(
      items.map((r) => ({
        topic: r.target,
        // The key the consumers hold: the one the last delivery used (a delivery chain may have chosen it).
        key: removalKey(r),
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

const B64 = 'b64:';
const NULL_KEY = 'null';

function removalKey(r: Removal): Buffer | null {
  const k = r.deliveredKey;
  if (k === null || k === undefined) return Buffer.from(r.entityId, 'utf8');
  if (k === NULL_KEY) return null;
  if (k.startsWith(B64)) return Buffer.from(k.slice(B64.length), 'base64');
  // Written by a newer version: the entity id is the best key left.
  return Buffer.from(r.entityId, 'utf8');
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(exactJson(value), 'utf8');
}

/** Kafka bytes of a shaped key: text as UTF-8, bytes as they are, anything else as exact JSON. */
export function keyBytes(key: unknown): Buffer | null {
  if (key === null || key === undefined) return null;
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  if (key instanceof Uint8Array) return Buffer.from(key);
  return Buffer.from(exactJson(key), 'utf8');
}

/** Kafka headers of a shaped record (the last header of a name wins; null values are left out). */
export function headerValues(headers: Headers): Record<string, Buffer | string> {
  const out: Record<string, Buffer | string> = {};
  for (const h of headers) {
    if (h.value === null || h.value === undefined) continue;
    out[h.key] =
      typeof h.value === 'string'
        ? h.value
        : h.value instanceof Uint8Array
          ? Buffer.from(h.value)
          : typeof h.value === 'object'
            ? exactJson(h.value)
            : String(h.value);
  }
  return out;
}
