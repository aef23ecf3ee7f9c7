import { describe, expect, it } from 'vitest';
import {
  ConfigDef,
  Schemas,
  type SourceConnectorPlugin,
  type SourceRecord,
  type SourceTaskContext,
} from '../../../../../runtime/api/index.js';
import type { OutRecord, TransactionalProducerPort } from '../../../../../runtime/worker/kafka-port.js';
import { FileOffsetStore } from '../../../../../runtime/worker/stores.js';
import { FakeKafka, waitFor } from '../fake-kafka.js';
import { exactlyOnceWorker } from './eos-worker.js';

/** Transactions as the broker would expose them: committed ones visible, aborted ones not. */
class TxKafka extends FakeKafka {
  readonly ids: string[] = [];
  readonly committed: OutRecord[][] = [];
  readonly aborted: OutRecord[][] = [];
  async transactionalProducer(id: string): Promise<TransactionalProducerPort> {
    this.ids.push(id);
    let open: OutRecord[] | null = null;
    return {
      get inTransaction() {
        return open !== null;
      },
      begin: async () => {
        open = [];
      },
      send: async (records) => {
        open!.push(...records);
        return records.map((r) => ({ topic: r.topic, partition: 0, offset: 0n }));
      },
      commit: async () => {
        this.committed.push(open!);
        open = null;
      },
      abort: async () => {
        this.aborted.push(open!);
        open = null;
      },
      close: async () => {},
    };
  }
}

/**
 * Emits 3 records per poll; on poll 1 commits after its 2nd record, on poll 2 aborts the batch, on
 * poll 3 commits the batch; then stops emitting.
 */
const txSource: SourceConnectorPlugin = {
  type: 'source',
  className: 'test.TxSourceConnector',
  version: '1.0.0',
  config: new ConfigDef(),
  summary: 'test',
  create: () => ({
    kind: 'source',
    version: () => '1.0.0',
    start() {},
    taskConfigs: () => [{}],
    stop() {},
  }),
  createTask: () => {
    let ctx: SourceTaskContext;
    let poll = 0;
    let seq = 0;
    return {
      version: () => '1.0.0',
      initialize(c) {
        ctx = c;
      },
      async start() {},
      async poll(): Promise<SourceRecord[] | null> {
        poll++;
        if (poll > 3) {
          await new Promise((r) => setTimeout(r, 10));
          return null;
        }
        const records = [0, 1, 2].map((): SourceRecord => {
          const s = seq++;
          return {
            topic: 'out',
            kafkaPartition: null,
            keySchema: null,
            key: null,
            valueSchema: Schemas.STRING,
            value: String(s),
            timestamp: null,
            headers: [],
            sourcePartition: { p: 0 },
            sourceOffset: { seq: s },
          };
        });
        if (poll === 1) ctx.transactionContext!.commitTransaction(records[1]);
        if (poll === 2) ctx.transactionContext!.abortTransaction();
        if (poll === 3) ctx.transactionContext!.commitTransaction();
        return records;
      },
      async stop() {},
    };
  },
};

describe('exactly-once source task (transaction.boundary=connector)', () => {
  it('commits and aborts where the task says, with the offsets inside the same transaction', async () => {
    const kafka = new TxKafka();
    const worker = exactlyOnceWorker(kafka, txSource, new FileOffsetStore(null));
    const config = { 'connector.class': 'test.TxSourceConnector', 'transaction.boundary': 'connector' };
    const states: string[] = [];
    await worker.startTask('tx', 0, config, {}, false, { onState: (s) => states.push(s) });
    await waitFor(() => kafka.committed.length >= 2, 5000, 'two commits');
    await worker.stopTask('tx', 0);

    expect(kafka.ids).toEqual(['g-tx-0']);
    const show = (t: OutRecord[]) => t.map((r) => `${r.topic}:${r.value?.toString()}`);
    // Poll 1: committed right after record 1; record 2 opens the next transaction…
    expect(show(kafka.committed[0]!)).toEqual(['out:0', 'out:1', 'offsets:{"seq":1}']);
    // …which poll 2's abort drops, with poll 2's records and without any offset.
    expect(show(kafka.aborted[0]!)).toEqual(['out:2', 'out:3', 'out:4', 'out:5']);
    // Poll 3 commits its batch with the offset of its last record.
    expect(show(kafka.committed[1]!)).toEqual(['out:6', 'out:7', 'out:8', 'offsets:{"seq":8}']);
    expect(kafka.committed).toHaveLength(2);
    expect(states).toContain('RUNNING');
    expect(states).not.toContain('FAILED');
  });
});
