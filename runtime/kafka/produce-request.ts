import { Writer, crc32c, produceV11 } from '@platformatic/kafka';

/**
 * The Produce request (v11) written into one Buffer of its exact size, byte for byte what @platformatic/kafka's own
 * `produceV11.createRequest` writes (produce-request.test.ts compares both on random requests). The client builds it
 * as a list of small Buffers (about eight per record: each varint, the attributes, key, value, every header), joins
 * the list for each batch's CRC and again when the connection writes the request: on the change-table drain that was
 * about a sixth of the worker's CPU (issue 18). Here a first pass adds up the sizes, a second writes each record in
 * place, and each batch's CRC is taken over its own bytes.
 *
 * Only what the data-path producer sends takes this path: no compression, Buffer keys, values and header entries,
 * bigint timestamps within ±2^31 ms of the batch's first one. Anything else answers undefined and the client's own
 * writer runs (PreEncodingProducer), so the bytes never depend on which path wrote them.
 */

/** A message as the client hands it to its Produce API (records.js MessageToProduce, after serialization). */
export interface WireMessage {
  topic: string;
  partition?: number | string;
  key?: Uint8Array | null;
  value?: Uint8Array | null;
  headers?: Map<Uint8Array | null, Uint8Array | null | undefined> | null;
  timestamp?: bigint | number | null;
}

/** The client's produce options for one request (producer.js #send's produceOptions). */
export interface WireProduceOptions {
  compression?: string;
  producerId?: bigint;
  producerEpoch?: number;
  sequences?: { getWithDefault(key: string, fallback: number): number };
  transactionalId?: string | null;
  partitionLeaderEpoch?: number;
}

/** records.js: IS_TRANSACTIONAL attribute bit, record batch magic (v2). */
const IS_TRANSACTIONAL = 1 << 4;
const MAGIC = 2;
/** Record batch header: firstOffset 8, length 4, leaderEpoch 4, magic 1, crc 4, then the 40 bytes the CRC covers. */
const BATCH_HEAD = 61;
/** Where the CRC'd part of a batch starts (its attributes), and where the CRC itself sits. */
const CRC_FROM = 21;
const CRC_AT = 17;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * The client's CRC-32C of a batch. Handed a DynamicBuffer of one Buffer, the client's native CRC reads that Buffer in
 * place; a plain Buffer it copies first (twice the time). Checked once against the standard check value, so a client
 * that would not recognise the DynamicBuffer gets the plain Buffer.
 */
const inPlace = (bytes: Buffer): number => crc32c(Writer.create().append(bytes).dynamicBuffer);
const batchCrc: (bytes: Buffer) => number =
  inPlace(Buffer.from('123456789')) === 0xe3069283 ? inPlace : (bytes) => crc32c(bytes);

/** Zig-zag of an int32 as an unsigned 32-bit value (the client's intZigZagEncode, read unsigned as it writes it). */
function zigzag(v: number): number {
  return ((v << 1) ^ (v >> 31)) >>> 0;
}

function uvarintSize(u: number): number {
  return u < 0x80 ? 1 : u < 0x4000 ? 2 : u < 0x200000 ? 3 : u < 0x10000000 ? 4 : 5;
}

/** A length-prefixed byte field of a record (appendVarIntBytes: zig-zag length, -1 for null, no +1). */
function bytesFieldSize(b: Uint8Array | null | undefined): number {
  return b === null || b === undefined ? 1 : uvarintSize(zigzag(b.length)) + b.length;
}

function writeUvarint(buf: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

function writeBytesField(buf: Buffer, at: number, b: Uint8Array | null | undefined): number {
  if (b === null || b === undefined) {
    buf[at] = 1; // zig-zag of -1
    return at + 1;
  }
  at = writeUvarint(buf, at, zigzag(b.length));
  buf.set(b, at);
  return at + b.length;
}

const isBytes = (b: unknown): b is Uint8Array | null | undefined =>
  b === null || b === undefined || b instanceof Uint8Array;

/** utils.js groupByProperty, the same way (integer-like keys first, ascending, then insertion order). */
function groupBy<T>(entries: readonly T[], key: (e: T) => string | number): Array<[string, T[]]> {
  const buckets = Object.create(null) as Record<string, T[]>;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    (buckets[key(e)] ||= []).push(e);
  }
  return Object.entries(buckets);
}

interface Batch {
  partition: number;
  messages: WireMessage[];
  /** Each record's length before its own length prefix. */
  bodies: number[];
  /** Each record's timestamp delta from the batch's first. */
  deltas: number[];
  first: bigint;
  max: bigint;
  size: number;
}

/** One partition's records, sized; undefined when a record is off this path. */
function sizeBatch(partition: number, messages: WireMessage[]): Batch | undefined {
  const first = messages[0]!.timestamp as bigint;
  let max = first;
  const bodies = new Array<number>(messages.length);
  const deltas = new Array<number>(messages.length);
  let size = BATCH_HEAD;
  let lastTs = first;
  let lastDelta = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    const ts = m.timestamp;
    if (typeof ts !== 'bigint' || !isBytes(m.key) || !isBytes(m.value)) return undefined;
    // Records of a send mostly share one timestamp: one bigint subtraction per distinct value.
    if (ts !== lastTs) {
      const d = Number(ts - first);
      if (d < INT32_MIN || d > INT32_MAX) return undefined;
      lastTs = ts;
      lastDelta = d;
    }
    if (ts > max) max = ts;
    let body = 1 + uvarintSize(zigzag(lastDelta)) + uvarintSize(zigzag(i)) + bytesFieldSize(m.key);
    body += bytesFieldSize(m.value);
    const headers = m.headers;
    if (headers === null || headers === undefined) {
      body += 1;
    } else {
      if (!(headers instanceof Map)) return undefined;
      body += uvarintSize(zigzag(headers.size));
      for (const [k, v] of headers) {
        if (!isBytes(k) || !isBytes(v)) return undefined;
        body += bytesFieldSize(k) + bytesFieldSize(v);
      }
    }
    if (body > INT32_MAX / 2) return undefined;
    bodies[i] = body;
    deltas[i] = lastDelta;
    size += uvarintSize(zigzag(body)) + body;
  }
  return { partition, messages, bodies, deltas, first, max, size };
}

function writeBatch(buf: Buffer, at: number, b: Batch, topic: string, options: WireProduceOptions): number {
  const start = at;
  const n = b.messages.length;
  const firstMessage = b.messages[0]!;
  const firstSequence = options.sequences
    ? options.sequences.getWithDefault(`${firstMessage.topic}:${firstMessage.partition}`, 0)
    : 0;
  buf.writeBigInt64BE(0n, at); // firstOffset
  buf.writeInt32BE(b.size - 12, at + 8); // length: what follows it
  buf.writeInt32BE(options.partitionLeaderEpoch ?? 0, at + 12);
  buf.writeInt8(MAGIC, at + 16);
  at += CRC_FROM;
  buf.writeInt16BE(options.transactionalId ? IS_TRANSACTIONAL : 0, at);
  buf.writeInt32BE(n - 1, at + 2);
  buf.writeBigInt64BE(b.first, at + 6);
  buf.writeBigInt64BE(b.max, at + 14);
  buf.writeBigInt64BE(options.producerId ?? -1n, at + 22);
  buf.writeInt16BE(options.producerEpoch ?? 0, at + 30);
  buf.writeInt32BE(firstSequence, at + 32);
  buf.writeInt32BE(n, at + 36);
  at += 40;
  for (let i = 0; i < n; i++) {
    const m = b.messages[i]!;
    at = writeUvarint(buf, at, zigzag(b.bodies[i]!));
    buf[at++] = 0; // attributes
    at = writeUvarint(buf, at, zigzag(b.deltas[i]!));
    at = writeUvarint(buf, at, zigzag(i));
    at = writeBytesField(buf, at, m.key);
    at = writeBytesField(buf, at, m.value);
    const headers = m.headers;
    if (headers === null || headers === undefined) {
      buf[at++] = 0;
    } else {
      at = writeUvarint(buf, at, zigzag(headers.size));
      for (const [k, v] of headers) {
        at = writeBytesField(buf, at, k);
        at = writeBytesField(buf, at, v);
      }
    }
  }
  // An invariant: the sizing pass and this one must agree, or the batch's length field and CRC would be wrong.
  if (at - start !== b.size) throw new Error(`Record batch for ${topic} sized ${b.size} bytes, written ${at - start}`);
  buf.writeUInt32BE(batchCrc(buf.subarray(start + CRC_FROM, at)), start + CRC_AT);
  return at;
}

/**
 * The request's bytes (what follows the request header), or undefined when the client's own writer must write it.
 * Like the client, it gives messages without a partition partition 0 and without a timestamp the current time.
 */
export function encodeProduceRequestV11(
  acks: number,
  timeout: number,
  messages: WireMessage[],
  options: WireProduceOptions,
): Buffer | undefined {
  if ((options.compression ?? 'none') !== 'none' || messages.length === 0) return undefined;
  const now = BigInt(Date.now());
  for (const m of messages) {
    if (m.partition === undefined) m.partition = 0;
    if (m.timestamp === undefined) m.timestamp = now;
  }
  const topics: Array<{ topic: string; name: Buffer; batches: Batch[] }> = [];
  const txId = options.transactionalId;
  const txBytes = txId === null || txId === undefined ? null : Buffer.from(txId, 'utf8');
  let size = (txBytes === null ? 1 : uvarintSize(txBytes.length + 1) + txBytes.length) + 2 + 4;
  const byTopic = groupBy(messages, (m) => m.topic);
  size += uvarintSize(byTopic.length + 1) + 1; // the topic array, the request's tagged fields
  for (const [topic, topicMessages] of byTopic) {
    const name = Buffer.from(topic, 'utf8');
    const byPartition = groupBy(topicMessages, (m) => m.partition!);
    size += uvarintSize(name.length + 1) + name.length + uvarintSize(byPartition.length + 1) + 1;
    const batches: Batch[] = [];
    for (const [partition, partitionMessages] of byPartition) {
      const batch = sizeBatch(Number(partition), partitionMessages);
      if (batch === undefined) return undefined;
      size += 4 + uvarintSize(batch.size + 1) + batch.size + 1;
      batches.push(batch);
    }
    topics.push({ topic, name, batches });
  }
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (txBytes === null) {
    buf[at++] = 0;
  } else {
    at = writeUvarint(buf, at, txBytes.length + 1);
    buf.set(txBytes, at);
    at += txBytes.length;
  }
  buf.writeInt16BE(acks, at);
  buf.writeInt32BE(timeout, at + 2);
  at = writeUvarint(buf, at + 6, topics.length + 1);
  for (const t of topics) {
    at = writeUvarint(buf, at, t.name.length + 1);
    buf.set(t.name, at);
    at += t.name.length;
    at = writeUvarint(buf, at, t.batches.length + 1);
    for (const b of t.batches) {
      buf.writeInt32BE(b.partition, at);
      at = writeUvarint(buf, at + 4, b.size + 1);
      at = writeBatch(buf, at, b, t.topic, options);
      buf[at++] = 0; // the partition's tagged fields
    }
    buf[at++] = 0; // the topic's tagged fields
  }
  buf[at++] = 0; // the request's tagged fields
  // An invariant, as in writeBatch: a request is never sent with bytes the sizing pass did not count.
  if (at !== size) throw new Error(`Produce request sized ${size} bytes, written ${at}`);
  return buf;
}

/** The Produce v11 request creator for createAPI: this module's bytes, or the client's own writer off its path. */
export function createProduceRequestV11(
  acks: number,
  timeout: number,
  messages: WireMessage[],
  options: WireProduceOptions,
): Writer | Promise<Writer> {
  const bytes = encodeProduceRequestV11(acks, timeout, messages, options);
  // produce-v11.js createApiRequest: gzip is compressed asynchronously, everything else synchronously.
  if (bytes === undefined) {
    const args = [acks, timeout, messages, options] as unknown as Parameters<typeof produceV11.createRequest>;
    return options.compression === 'gzip' ? produceV11.createRequestAsync(...args) : produceV11.createRequest(...args);
  }
  const writer = Writer.create().append(bytes);
  // ProduceAcks.NO_RESPONSE: the broker answers nothing, the connection must not wait (as the client marks it).
  if (acks === 0) writer.context.noResponse = true;
  return writer;
}
