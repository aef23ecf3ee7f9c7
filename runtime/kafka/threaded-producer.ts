import { Worker } from 'node:worker_threads';
import { ErpStreamError, RetriableError, type ErrorCode, type RetriableErrorCode } from '../api/index.js';
import {
  type ProducedAck,
  type ProducerRecord,
  RecordProducer,
  type RecordProducerOptions,
} from './record-producer.js';

/** What both data-path producers offer (RecordProducer on the calling thread, ThreadedRecordProducer on another). */
export interface DataProducer {
  send(records: readonly ProducerRecord[]): Promise<ProducedAck[]>;
  close(): Promise<void>;
}

/** Opts a worker's data-path producer into its own thread (`1`), until measurements make it the default. */
export const PRODUCER_THREAD_ENV = 'ERPSTREAM_PRODUCER_THREAD';

/**
 * A connected data-path producer, on a worker thread when `options.thread` says so (unset: when the environment
 * variable PRODUCER_THREAD_ENV is `1`).
 */
export function connectRecordProducer(options: RecordProducerOptions): Promise<DataProducer> {
  const thread = options.thread ?? process.env[PRODUCER_THREAD_ENV] === '1';
  return thread ? ThreadedRecordProducer.connect(options) : RecordProducer.connect(options);
}

/**
 * The data-path producer on a second core: a RecordProducer in a worker thread, behind the same API.
 *
 * Encoding record batches and writing them to the socket cost about 4.5 µs of CPU per 600-byte record on the
 * thread that does it (bench/producer.ts), a fifth of a source worker's CPU per event, all on the one thread that
 * also polls and converts. Here the calling thread only packs a send's bytes into one transferred buffer (one copy,
 * no per-record objects crossing threads); the thread encodes, sends and reads the acks while the caller converts
 * the next batch. Everything the contract rests on stays in the one RecordProducer inside: one send at a time,
 * records in order, a fresh producer id after a refused batch, errors mapped as it maps them (retriable or not,
 * same codes and messages; only the client's own error, the `cause`, stays behind in the thread).
 */
export class ThreadedRecordProducer implements DataProducer {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  /** Set once the thread is gone: every later send fails with it. */
  private dead: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly clientId: string,
  ) {
    this.exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromThread) => this.onMessage(m));
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      if (!this.closed || this.pending.size > 0) {
        this.fail(new ErpStreamError('ERPSTREAM_INTERNAL', `The producer thread of ${clientId} exited (code ${code})`));
      }
    });
  }

  /** Starts the thread and connects its producer: a wrong broker list fails here, as RecordProducer.connect does. */
  static async connect(options: RecordProducerOptions): Promise<ThreadedRecordProducer> {
    const worker = startThread(options);
    const p = new ThreadedRecordProducer(worker, options.clientId);
    try {
      await p.request({ type: 'connect' }, []);
    } catch (e) {
      p.closed = true;
      await worker.terminate();
      throw e;
    }
    return p;
  }

  /** Resolves once Kafka acknowledged every record (acks=all), with their coordinates in the same order. */
  async send(records: readonly ProducerRecord[]): Promise<ProducedAck[]> {
    if (records.length === 0) return [];
    // Invariant: the task stops sending before it closes its producer (as RecordProducer's own check).
    if (this.closed) throw new Error('The producer is closed');
    const packed = pack(records);
    const reply = (await this.request({ type: 'send', ...packed }, [
      packed.meta.buffer,
      packed.timestamps.buffer,
      packed.bytes.buffer,
    ])) as SentReply;
    const acks = new Array<ProducedAck>(records.length);
    for (let i = 0; i < records.length; i++) {
      acks[i] = { topic: records[i]!.topic, partition: reply.partitions[i]!, offset: reply.offsets[i]! };
    }
    return acks;
  }

  /** Waits for the sends in flight, closes the producer and ends the thread. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.dead === null) {
      try {
        await this.request({ type: 'close' }, []);
      } finally {
        await this.worker.terminate();
      }
    }
    await this.exited;
  }

  private request(message: ToThread, transfer: ArrayBuffer[]): Promise<unknown> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  private onMessage(m: FromThread): void {
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (m.error !== undefined) p.reject(revive(m.error));
    else p.resolve(m.value);
  }

  private fail(e: unknown): void {
    const error =
      e instanceof ErpStreamError
        ? e
        : new ErpStreamError('ERPSTREAM_INTERNAL', `The producer thread of ${this.clientId} failed: ${String(e)}`, {
            cause: e,
          });
    this.dead ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** One send's records, packed: topics and header names as small tables, the rest as three transferable arrays. */
export interface PackedRecords {
  topics: string[];
  headerNames: string[];
  /**
   * Per record: topic index, partition (-1: none), key length, value length (-1: null), header count; then per
   * header: name index, value length (-1: null). The bytes of keys, values and header values follow each other in
   * `bytes` in that order.
   */
  meta: Int32Array<ArrayBuffer>;
  /** Per record; NaN for none. */
  timestamps: Float64Array<ArrayBuffer>;
  bytes: Uint8Array<ArrayBuffer>;
}

interface SentReply {
  partitions: Int32Array;
  offsets: BigInt64Array;
}

type ToThread = { type: 'connect' } | { type: 'close' } | ({ type: 'send' } & PackedRecords);

export type FromThread = { id: number; value?: unknown; error?: ThreadError };

/** An error as it crosses threads: enough to rebuild the same class, code and message. */
export interface ThreadError {
  retriable: boolean;
  code: string | null;
  message: string;
}

const lengthOf = (b: Uint8Array | null): number => (b === null ? -1 : b.length);

/** Two passes: sizes first, so each array is allocated once at its size (fresh memory, not a pool's, to transfer). */
export function pack(records: readonly ProducerRecord[]): PackedRecords {
  const topics: string[] = [];
  const headerNames: string[] = [];
  const topicIndex = new Map<string, number>();
  const nameIndex = new Map<string, number>();
  let metaLength = 0;
  let byteLength = 0;
  for (const r of records) {
    metaLength += 5;
    byteLength += (r.key?.length ?? 0) + (r.value?.length ?? 0);
    if (r.headers !== undefined) {
      metaLength += 2 * r.headers.length;
      for (const [, v] of r.headers) byteLength += v?.length ?? 0;
    }
  }
  const meta = new Int32Array(metaLength);
  const timestamps = new Float64Array(records.length);
  const bytes = new Uint8Array(byteLength);
  let m = 0;
  let at = 0;
  let lastTopic = '';
  let lastTopicIndex = -1;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.topic !== lastTopic || lastTopicIndex < 0) {
      let t = topicIndex.get(r.topic);
      if (t === undefined) {
        t = topics.push(r.topic) - 1;
        topicIndex.set(r.topic, t);
      }
      lastTopic = r.topic;
      lastTopicIndex = t;
    }
    meta[m++] = lastTopicIndex;
    meta[m++] = r.partition ?? -1;
    meta[m++] = lengthOf(r.key);
    meta[m++] = lengthOf(r.value);
    meta[m++] = r.headers?.length ?? 0;
    if (r.key !== null) {
      bytes.set(r.key, at);
      at += r.key.length;
    }
    if (r.value !== null) {
      bytes.set(r.value, at);
      at += r.value.length;
    }
    if (r.headers !== undefined) {
      for (const [name, v] of r.headers) {
        let n = nameIndex.get(name);
        if (n === undefined) {
          n = headerNames.push(name) - 1;
          nameIndex.set(name, n);
        }
        meta[m++] = n;
        meta[m++] = lengthOf(v);
        if (v !== null) {
          bytes.set(v, at);
          at += v.length;
        }
      }
    }
    timestamps[i] = r.timestamp ?? NaN;
  }
  return { topics, headerNames, meta, timestamps, bytes };
}

/** The records again, their keys, values and header values views into the one transferred buffer (no copy). */
export function unpack(p: PackedRecords): ProducerRecord[] {
  const { meta, timestamps, bytes } = p;
  const out = new Array<ProducerRecord>(timestamps.length);
  const view = (length: number): Buffer | null => {
    if (length < 0) return null;
    const b = Buffer.from(bytes.buffer, bytes.byteOffset + at, length);
    at += length;
    return b;
  };
  let m = 0;
  let at = 0;
  for (let i = 0; i < out.length; i++) {
    const topic = p.topics[meta[m++]!]!;
    const partition = meta[m++]!;
    const key = view(meta[m++]!);
    const value = view(meta[m++]!);
    const headerCount = meta[m++]!;
    const r: ProducerRecord = { topic, partition: partition < 0 ? null : partition, key, value };
    if (headerCount > 0) {
      const headers = new Array<[string, Buffer | null]>(headerCount);
      for (let h = 0; h < headerCount; h++) {
        const name = p.headerNames[meta[m++]!]!;
        headers[h] = [name, view(meta[m++]!)];
      }
      r.headers = headers;
    }
    const ts = timestamps[i]!;
    if (!Number.isNaN(ts)) r.timestamp = ts;
    out[i] = r;
  }
  return out;
}

export function toThreadError(e: unknown): ThreadError {
  if (e instanceof ErpStreamError) return { retriable: e.retriable, code: e.code, message: e.message };
  return { retriable: false, code: null, message: e instanceof Error ? e.message : String(e) };
}

function revive(e: ThreadError): Error {
  if (e.retriable) return new RetriableError(e.message, { code: (e.code ?? undefined) as RetriableErrorCode });
  if (e.code !== null) return new ErpStreamError(e.code as ErrorCode, e.message);
  // A plain Error in the thread (an invariant broken there) stays a plain Error here, with its message.
  return new Error(e.message);
}

/**
 * The thread runs the compiled module next to this one; from TypeScript sources (tests, benches run with tsx) it
 * runs the .ts file under tsx's loader (inherited when the process runs under tsx, added when it does not: vitest).
 */
function startThread(options: RecordProducerOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(fromSource ? './producer-thread.ts' : './producer-thread.js', import.meta.url);
  const needsLoader = fromSource && !process.execArgv.some((a) => a.includes('tsx'));
  return new Worker(url, {
    workerData: { ...options, thread: false },
    ...(needsLoader ? { execArgv: [...process.execArgv, '--import', 'tsx'] } : {}),
  });
}
