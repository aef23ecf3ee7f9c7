import type { Schema } from './schema.js';

/** A Connect header: a key, a value and the value's schema (null when schemaless). */
export interface Header {
  readonly key: string;
  readonly value: unknown;
  readonly schema: Schema | null;
}

/**
 * Headers are an ordered, immutable list; transforms return a new list. Several headers may share a key
 * (Kafka allows it); `lastHeader` gives the one that wins, as Connect's `lastWithName`.
 */
export type Headers = readonly Header[];

export const Headers = {
  empty: Object.freeze([]) as Headers,
  of(entries: Record<string, unknown>): Headers {
    return Object.freeze(Object.entries(entries).map(([key, value]) => ({ key, value, schema: null })));
  },
  add(headers: Headers, key: string, value: unknown, schema: Schema | null = null): Headers {
    return Object.freeze([...headers, { key, value, schema }]);
  },
  /** Replaces every header with this key by one new header at the end. */
  set(headers: Headers, key: string, value: unknown, schema: Schema | null = null): Headers {
    const header: Header = { key, value, schema };
    // Called per record by SMTs; most records do not have the header yet, so skip the filtering copy.
    if (!headers.some((h) => h.key === key)) return Object.freeze([...headers, header]);
    return Object.freeze([...headers.filter((h) => h.key !== key), header]);
  },
  remove(headers: Headers, key: string): Headers {
    return Object.freeze(headers.filter((h) => h.key !== key));
  },
  last(headers: Headers, key: string): Header | undefined {
    for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === key) return headers[i];
    return undefined;
  },
  all(headers: Headers, key: string): Header[] {
    return headers.filter((h) => h.key === key);
  },
};

/** Fields every record has (Connect's ConnectRecord). */
export interface ConnectRecord {
  readonly topic: string;
  readonly kafkaPartition: number | null;
  readonly keySchema: Schema | null;
  readonly key: unknown;
  readonly valueSchema: Schema | null;
  readonly value: unknown;
  /** epoch ms */
  readonly timestamp: number | null;
  readonly headers: Headers;
}

export type SourcePartition = Readonly<Record<string, unknown>>;
export type SourceOffset = Readonly<Record<string, unknown>>;

export interface SourceRecord extends ConnectRecord {
  readonly sourcePartition: SourcePartition;
  readonly sourceOffset: SourceOffset;
}

export type RecordTimestampType = 'NoTimestampType' | 'CreateTime' | 'LogAppendTime';

export interface SinkRecord extends ConnectRecord {
  readonly kafkaPartition: number;
  readonly kafkaOffset: bigint;
  readonly timestampType: RecordTimestampType;
  /** Where the record was read, kept as it was before transforms changed topic/partition. */
  readonly originalTopic: string;
  readonly originalKafkaPartition: number;
  readonly originalKafkaOffset: bigint;
}

/** Changes some fields of a record and keeps the rest, including source/sink specific ones. */
export function newRecord<R extends ConnectRecord>(record: R, changes: Partial<ConnectRecord>): R {
  return { ...record, ...changes };
}

export function isSourceRecord(record: ConnectRecord): record is SourceRecord {
  return 'sourcePartition' in record;
}

export function isSinkRecord(record: ConnectRecord): record is SinkRecord {
  return 'kafkaOffset' in record;
}

/** A tombstone has a null value (Kafka deletes the key on compaction). */
export function isTombstone(record: ConnectRecord): boolean {
  return record.value === null || record.value === undefined;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

/**
 * A map key for a topic-partition. NUL cannot appear in a topic name, so two different pairs never share a key
 * (`${partition}:${topic}` would, for topics that contain digits and a colon).
 */
export function topicPartitionKey(topic: string, partition: number): string {
  return `${topic}\0${partition}`;
}
