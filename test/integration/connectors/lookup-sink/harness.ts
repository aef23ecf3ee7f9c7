import {
  type ErrantRecordReporter,
  Headers,
  type KafkaAccess,
  type SinkRecord,
  type SinkTaskContext,
  silentLogger,
} from '../../../../runtime/api/index.js';
import type { Destination, LookupSinkTask } from '../../../../connectors/lookup-sink/index.js';
import { builtinRegistry } from '../../../../bundle/builtin.js';
import { buildTaskTransforms } from '../../../../runtime/worker/task-transforms.js';

/** What the worker would hand the task: a converted SinkRecord with the source's headers. */
export function sinkRecord(opts: {
  topic: string;
  offset: bigint;
  key: unknown;
  value?: unknown;
  version?: bigint | string | Buffer | null;
  partition?: number;
}): SinkRecord {
  const headers: Record<string, unknown> = {};
  if (opts.version !== undefined && opts.version !== null) {
    headers['erpstream.version'] = typeof opts.version === 'bigint' ? opts.version.toString() : opts.version;
  }
  headers['erpstream.event.id'] = `${opts.topic}-${opts.offset}`;
  const partition = opts.partition ?? 0;
  return {
    topic: opts.topic,
    kafkaPartition: partition,
    kafkaOffset: opts.offset,
    keySchema: null,
    key: opts.key,
    valueSchema: null,
    value: opts.value === undefined ? { op: 'u' } : opts.value,
    timestamp: Date.now(),
    timestampType: 'CreateTime',
    headers: Headers.of(headers),
    originalTopic: opts.topic,
    originalKafkaPartition: partition,
    originalKafkaOffset: opts.offset,
  };
}

export interface Reported {
  record: SinkRecord;
  error: Error;
}

export function testContext(
  options: { kafka?: KafkaAccess; dlq?: Reported[]; progress?: Array<Record<string, unknown>> } = {},
): SinkTaskContext {
  const dlq = options.dlq;
  const reporter: ErrantRecordReporter | null = dlq
    ? {
        async report(record, error) {
          dlq.push({ record, error });
        },
      }
    : null;
  return {
    taskId: 0,
    connectorName: 'lookup-sink-it',
    logger: silentLogger,
    status: { progress: (info) => options.progress?.push(info) },
    offset() {},
    pause() {},
    resume() {},
    requestCommit() {},
    errantRecordReporter: reporter,
    assignment: () => [],
    ...(options.kafka ? { kafka: options.kafka } : {}),
  };
}

/** testContext() plus the worker's own chain factory, for delivery.transforms. */
export function shapingContext(options: Parameters<typeof testContext>[0] = {}): SinkTaskContext {
  const registry = builtinRegistry();
  return {
    ...testContext(options),
    transforms: (props, prefix) => buildTaskTransforms(registry, props, prefix),
  };
}

/** Polls until check() passes (or throws its last failure after timeoutMs). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export type { LookupSinkTask };

/** One call the task made on its destination. */
export interface DeliveryEvent {
  kind: 'deliver' | 'remove';
  entityId: string;
  version: bigint;
  target: string;
  row?: Record<string, unknown>;
}

/** Wraps a destination so the test sees every delivery in order (the real destination still does the work). */
export function recording(log: DeliveryEvent[]) {
  return (d: Destination): Destination => ({
    targetOf: (row, id) => d.targetOf(row, id),
    // A jdbc destination keeps committing the ledger's entries with its deliveries, as it does unwrapped.
    ...(d.sharesTransactionsWith ? { sharesTransactionsWith: (db) => d.sharesTransactionsWith!(db) } : {}),
    async deliver(items, alongside) {
      const refused = await d.deliver(items, alongside);
      for (const i of items.filter((x) => !refused.some((r) => r.entityId === x.entityId)))
        log.push({ kind: 'deliver', entityId: i.entityId, version: i.version, target: i.target, row: i.row });
      return refused;
    },
    async remove(items) {
      const refused = await d.remove(items);
      for (const i of items.filter((x) => !refused.some((r) => r.entityId === x.entityId)))
        log.push({ kind: 'remove', entityId: i.entityId, version: i.version, target: i.target });
      return refused;
    },
    metrics: () => d.metrics?.() ?? {},
    close: () => d.close(),
  });
}

/**
 * Two tasks delivering the same entities at once in opposite record orders, round after round (each round a batch
 * per task, then a flush): each task has the higher version of half the entities, so whichever lands last must not
 * lower the other's. `check` asserts, after each round, that every entity holds `want` (the higher version). Stops
 * both tasks.
 */
export async function raceInOppositeOrders(
  [a, b]: readonly [LookupSinkTask, LookupSinkTask],
  ids: readonly number[],
  records: (ids: readonly number[], version: (id: number) => bigint, from: number) => SinkRecord[],
  check: (round: number, want: string) => Promise<void>,
): Promise<void> {
  try {
    for (let round = 1; round <= 6; round++) {
      const base = BigInt(round * 10);
      const va = (id: number) => base + (id % 2 === 0 ? 1n : 0n);
      const vb = (id: number) => base + (id % 2 === 0 ? 0n : 1n);
      const from = round * 10_000;
      await Promise.all([
        a.put(records(ids, va, from)).then(() => a.flush()),
        b.put(records([...ids].reverse(), vb, from)).then(() => b.flush()),
      ]);
      await check(round, String(base + 1n));
    }
  } finally {
    await a.stop();
    await b.stop();
  }
}
