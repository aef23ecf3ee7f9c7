// Scaffolding for unit tests that run a WorkerSourceTask against in-memory ports: a connector task that hands out
// one batch, a producer that acknowledges everything, an offset store that keeps what was committed.
import type { SourceRecord, SourceTask } from '../../runtime/api/index.js';
import type { Ack, OutRecord, ProducerPort } from '../../runtime/worker/kafka-port.js';
import type { WorkerSourceTask } from '../../runtime/worker/source-task.js';
import type { OffsetEntry, OffsetStore } from '../../runtime/worker/stores.js';

/** A connector task whose first poll returns `records` and every later one nothing. */
export class OneBatch implements SourceTask {
  polls = 0;
  constructor(private readonly records: () => SourceRecord[]) {}
  initialize(): void {}
  async start(): Promise<void> {}
  async poll(): Promise<SourceRecord[]> {
    this.polls++;
    await new Promise((r) => setTimeout(r, 2));
    return this.polls === 1 ? this.records() : [];
  }
  async stop(): Promise<void> {}
  version(): string {
    return 'test';
  }
}

/** Acknowledges every send and keeps what was sent. */
export class AckingProducer implements ProducerPort {
  readonly sent: OutRecord[] = [];
  async send(records: readonly OutRecord[]): Promise<Ack[]> {
    this.sent.push(...records);
    return records.map((r, i) => ({ topic: r.topic, partition: 0, offset: BigInt(i) }));
  }
  async close(): Promise<void> {}
}

/** Keeps the committed source offsets, in commit order; reads start from no offset. */
export class MemoryOffsets implements OffsetStore {
  readonly entries: OffsetEntry[] = [];
  async start(): Promise<void> {}
  async get(): Promise<null> {
    return null;
  }
  async set(_c: string, entries: readonly OffsetEntry[]): Promise<void> {
    this.entries.push(...entries);
  }
  async list(): Promise<OffsetEntry[]> {
    return this.entries;
  }
}

/** Starts the task, lets it poll its batch through for `ms`, and stops it. */
export async function runBriefly(task: WorkerSourceTask, ms = 60): Promise<void> {
  await task.start(false);
  await new Promise((r) => setTimeout(r, ms));
  await task.stop(5000);
}
