import { type MessageToProduce, type Producer, GenericError } from '@platformatic/kafka';
import { ErpStreamError, RetriableError } from '../api/index.js';
import type { Compression } from './compression.js';
import { parseBrokers } from './client.js';
import { javaPartition } from './murmur2.js';
import { isTransientKafkaError } from './transient.js';
import { MAX_REQUEST_BYTES, estimatedRecordBytes, sizedRuns } from './request-size.js';
import { PreEncodingProducer } from './pre-encoding-producer.js';

/** Header pairs in order; a key may repeat, a value may be null (Kafka allows both). */
export type RecordHeaders = ReadonlyArray<readonly [string, Buffer | null]>;

export interface ProducerRecord {
  topic: string;
  /** Explicit partition; otherwise murmur2 of the key (as Java's default partitioner), or sticky per send. */
  partition?: number | null;
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeaders;
  timestamp?: number | null;
}

export interface ProducedAck {
  topic: string;
  partition: number;
  offset: bigint;
}

export interface RecordProducerOptions {
  brokers: string[] | string;
  clientId: string;
  compression?: Compression;
  /** Per request; the client retries retriable errors `retries` times within the send (default 6, at least 2). */
  requestTimeoutMs?: number;
  retries?: number;
  /**
   * Records per request are capped at about this many bytes (keys, values, headers): a partition's records go as
   * one record batch, which the broker refuses past its max.message.bytes (1,048,588 by default). Default 900,000.
   */
  maxRequestBytes?: number;
  /**
   * Encode and send on a second core: `connectRecordProducer` then returns a ThreadedRecordProducer (a worker thread
   * running this producer), which leaves the calling thread only a copy of each record's bytes.
   */
  thread?: boolean;
}

const sizeOf = (r: ProducerRecord): number => estimatedRecordBytes(r.key, r.value, r.headers);

/** How long a topic's partition count is trusted before metadata is read again (partitions can be added). */
const PARTITION_COUNT_TTL_MS = 60_000;

/**
 * The data-path producer: @platformatic/kafka (about twice kafkajs's throughput per CPU second, see
 * bench/source and bench/sink), idempotent, acks=all, no topic auto-creation.
 *
 * Sends are serialized: the client only advances its idempotence sequence numbers when a produce response
 * arrives, so two sends in flight to one partition would reuse numbers. One send at a time keeps the broker's
 * duplicate detection sound and the order of records across sends intact, as kafkajs's maxInFlightRequests=1 did.
 *
 * Partitions are chosen here, not by the client: the client's default hash is not Java's (it does not mask the
 * sign bit), and the ack of each record (its partition and offset) must be known.
 */
export class RecordProducer {
  private producer: Producer;
  /**
   * Set when a send failed. Its records may or may not have been written (a timeout after the write), and the
   * client did not advance its sequence numbers: the next batch would carry the same ones, and the broker could
   * take it for a retry of the failed one and drop it. A new producer id starts the sequences afresh, so a resend
   * can only duplicate, never vanish (what Java's producer does by bumping its epoch).
   */
  private needsNewProducerId = false;
  private readonly compression: Compression;
  private readonly maxRequestBytes: number;
  private readonly partitionCounts = new Map<string, { count: number; at: number }>();
  private readonly sticky = new Map<string, number>();
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(private readonly options: RecordProducerOptions) {
    this.compression = options.compression ?? 'none';
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    this.producer = this.newClient();
  }

  private newClient(): Producer {
    const o = this.options;
    // The client's Producer, its Produce requests written in one Buffer (pre-encoding-producer.ts).
    return new PreEncodingProducer({
      clientId: o.clientId,
      bootstrapBrokers: parseBrokers(o.brokers),
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
      timeout: o.requestTimeoutMs ?? 30_000,
      // An idempotent producer given fewer than 2 retries would retry forever (the client's rule). The default
      // rides out a leader move (backoff 200 ms doubling to 5 s: about 11 s in all); a longer outage surfaces as a
      // RetriableError that the task waits out (outage.wait.timeout.ms) with a status saying so.
      retries: Math.max(2, o.retries ?? 6),
      retryDelay: (_client, _operation, attempt) => Math.min(100 * 2 ** attempt, 5000),
    });
  }

  /** Creates the producer and obtains its producer id, so a wrong broker list fails here, not on the first send. */
  static async connect(options: RecordProducerOptions): Promise<RecordProducer> {
    const p = new RecordProducer(options);
    try {
      await p.producer.initIdempotentProducer({});
    } catch (e) {
      await forceClose(p.producer).catch(() => {});
      throw toRuntimeError(e, `Kafka producer ${options.clientId} could not connect to ${String(options.brokers)}`);
    }
    return p;
  }

  /** A fresh client and producer id after a failed send (see needsNewProducerId). */
  private async renewProducerId(): Promise<void> {
    await forceClose(this.producer).catch(() => {});
    this.producer = this.newClient();
    try {
      await this.producer.initIdempotentProducer({});
    } catch (e) {
      throw toRuntimeError(e, `Kafka producer ${this.options.clientId} could not reconnect`);
    }
    this.needsNewProducerId = false;
  }

  /** Resolves once Kafka acknowledged every record (acks=all), with their coordinates in the same order. */
  send(records: readonly ProducerRecord[]): Promise<ProducedAck[]> {
    if (records.length === 0) return Promise.resolve([]);
    const result = this.tail.then(() => this.sendNow(records));
    this.tail = result.catch(() => {});
    return result;
  }

  private async sendNow(records: readonly ProducerRecord[]): Promise<ProducedAck[]> {
    // Invariant: the task stops sending before it closes its producer.
    if (this.closed) throw new Error('The producer is closed');
    if (this.needsNewProducerId) await this.renewProducerId();
    const partitions = await this.place(records);
    const acks = new Array<ProducedAck>(records.length);
    // A partition's records travel as one record batch, which the broker refuses past max.message.bytes (1 MB by
    // default): large sends go out as consecutive requests, each under maxRequestBytes, in order.
    for (const [from, to] of sizedRuns(records, sizeOf, this.maxRequestBytes)) {
      await this.sendChunk(records, partitions, from, to, acks);
    }
    return acks;
  }

  /** Sends records[from, to) as one request and writes their acks (partition, offset) into `acks`. */
  private async sendChunk(
    records: readonly ProducerRecord[],
    partitions: readonly number[],
    from: number,
    to: number,
    acks: ProducedAck[],
  ): Promise<void> {
    const messages = new Array<MessageToProduce>(to - from);
    // Records of one batch mostly share their timestamp: one BigInt per distinct value.
    let lastTs = NaN;
    let lastTsBig = 0n;
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      const m: MessageToProduce = { topic: r.topic, partition: partitions[i]! };
      if (r.key !== null) m.key = r.key;
      // A null value (tombstone) is written as length -1 by the client when `value` is absent.
      if (r.value !== null) m.value = r.value;
      if (r.headers !== undefined && r.headers.length > 0) {
        // Buffer keys keep repeated header names apart (a Map of strings would merge them).
        const h = new Map<Buffer, Buffer>();
        for (const [k, v] of r.headers) {
          const cached = headerKeyBytes(k);
          h.set(h.has(cached) ? Buffer.from(k) : cached, v ?? (null as unknown as Buffer));
        }
        m.headers = h;
      }
      if (r.timestamp !== undefined && r.timestamp !== null) {
        if (r.timestamp !== lastTs) {
          lastTsBig = BigInt(r.timestamp);
          lastTs = r.timestamp;
        }
        m.timestamp = lastTsBig;
      }
      messages[i - from] = m;
    }
    let produced;
    try {
      produced = await this.producer.send({ messages, compression: this.compression });
    } catch (e) {
      this.needsNewProducerId = true;
      throw toRuntimeError(e, `Kafka rejected a batch of ${to - from} records`);
    }
    // The next offset of each partition written, by topic then partition number.
    const next = new Map<string, bigint[]>();
    for (const o of produced.offsets ?? []) {
      let byPartition = next.get(o.topic);
      if (byPartition === undefined) next.set(o.topic, (byPartition = []));
      byPartition[o.partition] = o.offset;
    }
    let topic = '';
    let byPartition: bigint[] | undefined;
    for (let i = from; i < to; i++) {
      const t = records[i]!.topic;
      if (t !== topic || i === from) {
        topic = t;
        byPartition = next.get(t);
      }
      const partition = partitions[i]!;
      const offset = byPartition?.[partition];
      if (offset === undefined) {
        acks[i] = { topic, partition, offset: -1n };
        continue;
      }
      byPartition![partition] = offset + 1n;
      acks[i] = { topic, partition, offset };
    }
  }

  private async place(records: readonly ProducerRecord[]): Promise<number[]> {
    const counts = new Map<string, number>();
    const stale: string[] = [];
    const now = Date.now();
    for (const r of records) {
      if (counts.has(r.topic)) continue;
      const c = this.partitionCounts.get(r.topic);
      if (c && now - c.at < PARTITION_COUNT_TTL_MS) counts.set(r.topic, c.count);
      else if (!stale.includes(r.topic)) stale.push(r.topic);
    }
    if (stale.length > 0) {
      let metadata;
      try {
        metadata = await this.producer.metadata({ topics: stale, autocreateTopics: false, forceUpdate: true });
      } catch (e) {
        throw toRuntimeError(e, `Could not read the metadata of topic(s) ${stale.join(', ')}`);
      }
      for (const topic of stale) {
        const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
        if (count <= 0) {
          // Right after creation the metadata may not list the topic yet: waited out like an outage.
          throw new RetriableError(`Topic ${topic} has no partitions in the metadata yet (does it exist?)`, {
            code: 'ERPSTREAM_TOPIC_NOT_READY',
          });
        }
        this.partitionCounts.set(topic, { count, at: now });
        counts.set(topic, count);
      }
    }
    // Records without a key stick to one partition per send and topic (Java's sticky partitioner, per batch).
    const stickyNow = new Map<string, number>();
    const out = new Array<number>(records.length);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      const count = counts.get(r.topic)!;
      if (r.partition !== undefined && r.partition !== null) {
        if (r.partition < 0 || r.partition >= count) {
          throw new ErpStreamError(
            'ERPSTREAM_PARTITION_UNKNOWN',
            `Partition ${r.partition} does not exist in topic ${r.topic} (it has ${count})`,
          );
        }
        out[i] = r.partition;
      } else if (r.key !== null) {
        out[i] = javaPartition(r.key, count);
      } else {
        let p = stickyNow.get(r.topic);
        if (p === undefined) {
          p = ((this.sticky.get(r.topic) ?? -1) + 1) % count;
          this.sticky.set(r.topic, p);
          stickyNow.set(r.topic, p);
        }
        out[i] = p;
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    await forceClose(this.producer);
  }
}

/**
 * Header names repeat on every record (a task writes a handful), so their bytes are encoded once. The client only
 * reads key buffers. A name repeated within one record is encoded afresh the second time, so the Map keeps both.
 */
const headerKeys = new Map<string, Buffer>();

function headerKeyBytes(name: string): Buffer {
  let b = headerKeys.get(name);
  if (b === undefined) {
    b = Buffer.from(name);
    if (headerKeys.size < 1024) headerKeys.set(name, b);
  }
  return b;
}

/** Closes even with requests pending (the callback form: the promise overload takes no force flag in the types). */
function forceClose(producer: Producer): Promise<void> {
  return new Promise((resolve, reject) => producer.close(true, (e) => (e ? reject(e) : resolve())));
}

/**
 * Client errors the library marks retriable become RetriableError with code ERPSTREAM_KAFKA_UNAVAILABLE: the task
 * waits them out (outage.wait.timeout.ms) and its status says it is waiting for the broker.
 */
function toRuntimeError(e: unknown, context: string): Error {
  const detail = describe(e);
  // Either one client error or an aggregate of the attempts' errors: retriable if any cause is (a network error).
  const retriable =
    (e instanceof Error &&
      GenericError.isGenericError(e) &&
      (e.canRetry === true || (e as GenericError).findBy('canRetry', true) !== null)) ||
    isTransientKafkaError(e);
  const message = `${context}: ${detail}`;
  return retriable
    ? new RetriableError(message, { cause: e, code: 'ERPSTREAM_KAFKA_UNAVAILABLE' })
    : new ErpStreamError('ERPSTREAM_KAFKA_REFUSED', message, { cause: e });
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const inner = (e as { errors?: unknown[] }).errors;
  if (Array.isArray(inner) && inner.length > 0) {
    const first = inner[0] instanceof Error ? inner[0].message : String(inner[0]);
    return `${e.message} (${first})`;
  }
  return e.message;
}
