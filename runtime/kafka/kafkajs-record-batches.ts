import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 (unmaintained) decodes each fetched record through `Long`: the batch's first offset and first
 * timestamp, kept as decimal strings, are parsed back into a Long for every record, added to, and printed again;
 * the timestamp delta is read as a Long; every record gets its own Decoder and buffer slice, and its headers are
 * folded with an object spread per header (issue 18). This decoder reads a record batch (magic 2) into the same
 * shape — the batch's fields, one shared `batchContext` object per batch, records with string offsets and timestamps, key and value as slices of the
 * fetch response, headers as an object whose repeated keys collect their values in an array — with plain numbers
 * where they are exact (offsets and timestamps below 2^53) and BigInt where they are not; the header object is built
 * on first use. Decoding the debezium bench's sink records (three headers each) costs 0.8 µs each instead of 2.3
 * (`npm run bench -- fetch-decode`).
 *
 * Two faults of kafkajs's records are fixed on the way. Its header fold tested `obj[key] === undefined` on a plain
 * object, so a header named after an Object.prototype member (`constructor`, `toString`, `__proto__` …) came out as
 * `[Object, value]`, and a sink was handed an extra header holding `function Object() { [native code] }`; here only
 * own keys count. And the object reorders headers (a repeated key's values are grouped), where Connect keeps them
 * in order: each record also carries `headerList`, its headers as on the wire, which the worker's sink consumer
 * hands to tasks.
 *
 * It replaces kafkajs's `protocol/recordBatch/v0/decoder.js` in the module cache before the fetch response decoders
 * that require it are loaded (kafkajs loads them lazily, on the first fetch); if they were loaded already, or kafkajs
 * is another version without that module, kafkajs is left as it is.
 */

/** The part of kafkajs's Decoder the batch decoder uses. */
interface KafkajsDecoder {
  buffer: Buffer;
  offset: number;
  forward(size: number): void;
}

interface Codec {
  decompress(buffer: Buffer): Promise<Buffer>;
}

interface Kafkajs {
  lookupCodecByAttributes(attributes: number): Codec | null;
  PartialMessageError: new (message: string) => Error;
}

export interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  partitionLeaderEpoch: number;
  inTransaction: boolean;
  isControlBatch: boolean;
  lastOffsetDelta: number;
  producerId: string;
  producerEpoch: number;
  firstSequence: number;
  maxTimestamp: string;
  timestampType: number;
  magicByte: number;
}

export interface DecodedRecord {
  readonly magicByte: number;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | Array<Buffer | null>>;
  /** The headers as on the wire: in order, a repeated key as often as it came (kafkajs's object groups them). */
  headerList: ReadonlyArray<[string, Buffer | null]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;
const CREATE_TIME = 0;
const LOG_APPEND_TIME = 1;
/** Where a batch's record count is, counted from its partition leader epoch (after base offset and length). */
const RECORD_COUNT_AT = 45;

/** Reads one record batch from a fetch response's records, as kafkajs's RecordBatch v0 decoder does. */
export function recordBatchDecoder(kafkajs: Kafkajs) {
  return async (fetchDecoder: KafkajsDecoder) => {
    const buf = fetchDecoder.buffer;
    const start = fetchDecoder.offset;
    const firstOffset = buf.readBigInt64BE(start).toString();
    const length = buf.readInt32BE(start + 8);
    const remaining = Math.max(0, buf.length - (start + 12));
    fetchDecoder.forward(12 + length);
    if (remaining < length) {
      throw new kafkajs.PartialMessageError(
        `Tried to decode a partial record batch: remainingBytes(${remaining}) < recordBatchLength(${length})`,
      );
    }
    const end = start + 12 + length;
    let o = start + 12;
    const partitionLeaderEpoch = buf.readInt32BE(o);
    const magicByte = buf.readInt8(o + 4);
    // CRC at o + 5, not checked (as kafkajs)
    const attributes = buf.readInt16BE(o + 9);
    const lastOffsetDelta = buf.readInt32BE(o + 11);
    const firstTimestamp = buf.readBigInt64BE(o + 15).toString();
    const maxTimestamp = buf.readBigInt64BE(o + 23).toString();
    const producerId = buf.readBigInt64BE(o + 31).toString();
    const producerEpoch = buf.readInt16BE(o + 39);
    const firstSequence = buf.readInt32BE(o + 41);
    o += RECORD_COUNT_AT;
    const recordContext = {
      firstOffset,
      firstTimestamp,
      partitionLeaderEpoch,
      inTransaction: (attributes & TRANSACTIONAL_FLAG_MASK) > 0,
      isControlBatch: (attributes & CONTROL_FLAG_MASK) > 0,
      lastOffsetDelta,
      producerId,
      producerEpoch,
      firstSequence,
      maxTimestamp,
      timestampType: (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME,
    };
    const ctx: BatchContext = { ...recordContext, magicByte };
    const count = buf.readInt32BE(o);
    o += 4;
    const codec = kafkajs.lookupCodecByAttributes(attributes);
    let records: DecodedRecord[];
    if (codec === null) {
      records = count === -1 ? [] : decodeRecords(buf, o, end, count, ctx);
    } else if (count <= 0) {
      records = [];
    } else {
      const plain = await codec.decompress(buf.subarray(o, end));
      records = decodeRecords(plain, 0, plain.length, count, ctx);
    }
    return { ...recordContext, records };
  };
}

const NO_HEADERS: ReadonlyArray<[string, Buffer | null]> = Object.freeze([]);

/** `count` records (each: varint length, then the record) from `buf` at `from`. */
function decodeRecords(buf: Buffer, from: number, end: number, count: number, ctx: BatchContext): DecodedRecord[] {
  const records = new Array<DecodedRecord>(count);
  const r = new Reader(buf, from);
  // Exact as numbers almost always; BigInt otherwise (offsets and timestamps are int64).
  const firstOffsetN = Number(ctx.firstOffset);
  const firstTimestampN = Number(ctx.firstTimestamp);
  const logAppend = ctx.timestampType === LOG_APPEND_TIME;
  for (let i = 0; i < count; i++) {
    const size = r.varint();
    const next = r.o + size;
    const attributes = buf.readInt8(r.o);
    r.o += 1;
    const timestampDelta = r.varlong();
    const offsetDelta = r.varint();
    const key = r.bytes(end);
    const value = r.bytes(end);
    const headerCount = r.varint();
    const headerList: Array<[string, Buffer | null]> | typeof NO_HEADERS = headerCount > 0 ? [] : NO_HEADERS;
    for (let h = 0; h < headerCount; h++) {
      const hk = String(r.string(end));
      (headerList as Array<[string, Buffer | null]>).push([hk, r.bytes(end)]);
    }
    records[i] = new FetchedRecord(
      attributes,
      logAppend ? ctx.maxTimestamp : plus(ctx.firstTimestamp, firstTimestampN, timestampDelta),
      plus(ctx.firstOffset, firstOffsetN, offsetDelta),
      key,
      value,
      headerList,
      ctx,
    );
    // The record's own length decides where the next one starts (fields a newer format may add are skipped).
    r.o = next;
  }
  return records;
}

/**
 * A decoded record. `headers`, kafkajs's object form, is built on first use: the worker's sink consumer reads
 * `headerList` and never needs it.
 */
class FetchedRecord implements DecodedRecord {
  #headers: DecodedRecord['headers'] | undefined;
  readonly magicByte: number;
  isControlRecord: boolean;

  constructor(
    readonly attributes: number,
    readonly timestamp: string,
    readonly offset: string,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headerList: ReadonlyArray<[string, Buffer | null]>,
    readonly batchContext: BatchContext,
  ) {
    this.magicByte = batchContext.magicByte;
    this.isControlRecord = batchContext.isControlBatch;
  }

  get headers(): DecodedRecord['headers'] {
    if (this.#headers === undefined) {
      const headers: DecodedRecord['headers'] = {};
      for (const [k, v] of this.headerList) addHeader(headers, k, v);
      this.#headers = headers;
    }
    return this.#headers;
  }
}

/** kafkajs's header fold: a repeated key's values become an array, in order. */
function addHeader(headers: DecodedRecord['headers'], key: string, value: Buffer | null): void {
  const had = Object.hasOwn(headers, key) ? headers[key] : undefined;
  const v = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  if (key !== '__proto__') headers[key] = v;
  // An own property, as kafkajs's computed key in an object literal makes it (an assignment would set the prototype).
  else Object.defineProperty(headers, key, { value: v, enumerable: true, writable: true, configurable: true });
}

function plus(base: string, baseN: number, delta: number | bigint): string {
  if (typeof delta === 'number' && Number.isSafeInteger(baseN)) {
    const sum = baseN + delta;
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  return (BigInt(base) + BigInt(delta)).toString();
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public o: number,
  ) {}

  /** A zigzag varint (int32). */
  varint(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    let b: number;
    do {
      b = buf[this.o++]!;
      result |= (b & 0x7f) << shift;
      shift += 7;
    } while (b >= 0x80 && shift < 35);
    return (result >>> 1) ^ -(result & 1);
  }

  /** A zigzag varlong (int64): a number when exact, a bigint when not. */
  varlong(): number | bigint {
    const buf = this.buf;
    const start = this.o;
    let result = 0;
    let scale = 1;
    let b: number;
    do {
      b = buf[this.o++]!;
      result += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80 && scale < 2 ** 49);
    if (b < 0x80) return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    // More than 7 bytes: past 2^49, exact only as a bigint.
    this.o = start;
    let big = 0n;
    let shift = 0n;
    do {
      b = buf[this.o++]!;
      big |= BigInt(b & 0x7f) << shift;
      shift += 7n;
    } while (b >= 0x80 && shift < 70n);
    big = BigInt.asUintN(64, big);
    return (big >> 1n) ^ -(big & 1n);
  }

  bytes(end: number): Buffer | null {
    const n = this.varint();
    if (n === -1) return null;
    const from = this.o;
    this.o += n;
    return this.buf.subarray(from, Math.min(this.o, end));
  }

  string(end: number): string | null {
    const n = this.varint();
    if (n === -1) return null;
    const from = this.o;
    this.o += n;
    return this.buf.toString('utf8', from, Math.min(this.o, end));
  }
}

const PATCHED = Symbol.for('erpstream.kafkajs.recordBatches');
const BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const FETCH_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';

/** {@link recordBatchDecoder} with kafkajs's codecs and partial-batch error. */
export function kafkajsRecordBatchDecoder(): ReturnType<typeof recordBatchDecoder> {
  const require = createRequire(import.meta.url);
  const { lookupCodecByAttributes } = require('kafkajs/src/protocol/message/compression/index.js') as Kafkajs;
  const { KafkaJSPartialMessageError } = require('kafkajs/src/errors.js') as {
    KafkaJSPartialMessageError: Kafkajs['PartialMessageError'];
  };
  return recordBatchDecoder({ lookupCodecByAttributes, PartialMessageError: KafkaJSPartialMessageError });
}

/** Puts {@link recordBatchDecoder} in kafkajs's place; must run before kafkajs's fetch decoders are loaded. */
export function useFastRecordBatches(): boolean {
  let require: NodeJS.Require;
  let batchPath: string;
  let messagesPath: string;
  try {
    require = createRequire(import.meta.url);
    batchPath = require.resolve(BATCH_DECODER);
    messagesPath = require.resolve(FETCH_MESSAGES);
  } catch {
    return false;
  }
  const cached = require.cache[batchPath];
  if ((cached?.exports as { [PATCHED]?: boolean } | undefined)?.[PATCHED]) return true;
  // Too late: the fetch decoder holds kafkajs's own batch decoder.
  if (require.cache[messagesPath] !== undefined) return false;
  try {
    require(batchPath);
    require.cache[batchPath]!.exports = Object.assign(kafkajsRecordBatchDecoder(), { [PATCHED]: true });
    return true;
  } catch {
    return false;
  }
}
