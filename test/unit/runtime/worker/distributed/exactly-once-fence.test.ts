import { describe, expect, it } from 'vitest';
import {
  ConfigDef,
  ErpStreamError,
  type SourceConnectorPlugin,
  type SourceOffset,
  type SourcePartition,
  type SourceTaskContext,
} from '../../../../../runtime/api/index.js';
import type { TransactionalProducerPort } from '../../../../../runtime/worker/kafka-port.js';
import { FileOffsetStore } from '../../../../../runtime/worker/stores.js';
import { FakeKafka, waitFor } from '../fake-kafka.js';
import { exactlyOnceWorker } from './eos-worker.js';

/** What happened, in order: `fence <id>` when a transactional producer is created (initTransactions), `read`. */
const events: string[] = [];

class FencingKafka extends FakeKafka {
  async transactionalProducer(id: string): Promise<TransactionalProducerPort> {
    events.push(`fence ${id}`);
    let open = false;
    return {
      get inTransaction() {
        return open;
      },
      begin: async () => {
        open = true;
      },
      send: async (records) => records.map((r) => ({ topic: r.topic, partition: 0, offset: 0n })),
      commit: async () => {
        open = false;
      },
      abort: async () => {
        open = false;
      },
      close: async () => {},
    };
  }
}

/** The offsets topic as KafkaOffsetStore reads it: optionally, a transaction of another producer never ends. */
class OffsetsTopic extends FileOffsetStore {
  constructor(private readonly blocked: boolean) {
    super(null);
  }
  override async get(connector: string, partition: SourcePartition): Promise<SourceOffset | null> {
    events.push('read');
    if (this.blocked) {
      throw new ErpStreamError('ERPSTREAM_TIMEOUT', 'Timed out after 180000 ms reading topic offsets to its end');
    }
    return super.get(connector, partition);
  }
}

/** Reads its offset in start(), as every source task that resumes does. */
const resumingSource: SourceConnectorPlugin = {
  type: 'source',
  className: 'test.ResumingSourceConnector',
  version: '1.0.0',
  config: new ConfigDef(),
  summary: 'test',
  create: () => ({ kind: 'source', version: () => '1.0.0', start() {}, taskConfigs: () => [{}], stop() {} }),
  createTask: () => {
    let ctx: SourceTaskContext;
    return {
      version: () => '1.0.0',
      initialize(c) {
        ctx = c;
      },
      async start() {
        await ctx.offsetStorageReader.offset({ p: 0 });
      },
      async poll() {
        await new Promise((r) => setTimeout(r, 10));
        return null;
      },
      async stop() {},
    };
  },
};

describe('exactly-once task start: fence, then read offsets (KIP-618)', () => {
  it('creates the transactional producer, which fences the previous instance, before the first offsets read', async () => {
    events.length = 0;
    const worker = exactlyOnceWorker(new FencingKafka(), resumingSource, new OffsetsTopic(false));
    const states: string[] = [];
    await worker.startTask('c', 0, { 'connector.class': 'test.ResumingSourceConnector' }, {}, false, {
      onState: (s) => states.push(s),
    });
    await waitFor(() => states.includes('RUNNING'), 5000, 'RUNNING');
    await worker.stopTask('c', 0);
    expect(events.slice(0, 2)).toEqual(['fence g-c-0', 'read']);
  });

  it('a read that outlasts the cap fails the start with a retriable error naming the transactional id and the fix', async () => {
    events.length = 0;
    const worker = exactlyOnceWorker(new FencingKafka(), resumingSource, new OffsetsTopic(true));
    let failure: unknown = null;
    await worker.startTask('c', 0, { 'connector.class': 'test.ResumingSourceConnector' }, {}, false, {
      onState: (s, e) => {
        if (s === 'FAILED') failure = e;
      },
    });
    await waitFor(() => failure !== null, 5000, 'FAILED');
    await worker.stopTask('c', 0);
    expect(failure).toBeInstanceOf(ErpStreamError);
    const e = failure as ErpStreamError;
    expect(e.retriable).toBe(true);
    expect(e.message).toContain('transactional id g-c-0');
    expect(e.message).toContain('POST /connectors/c/tasks/0/restart');
  });
});
