/**
 * What a task (and the DLQ reporter) needs to send records: raw bytes in, acknowledgements out. The worker's
 * Kafka port (runtime/worker/kafka-port.ts) implements it on kafkajs; unit tests use an in-memory one.
 */
export type RawHeaders = Array<[string, Buffer | null]>;

export interface OutRecord {
  topic: string;
  partition: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers: RawHeaders;
  timestamp: number | null;
}

export interface Ack {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface ProducerPort {
  /** Resolves once Kafka acknowledged every record, with their coordinates in the same order. */
  send(records: readonly OutRecord[]): Promise<Ack[]>;
  close(): Promise<void>;
}
