import { describe, expect, it } from 'vitest';
import {
  ConfigDef,
  RetriableError,
  Schemas,
  type SourceConnectorPlugin,
  classifyDbError,
  type SourceRecord,
  type SourceTaskContext,
} from '../../../../../runtime/api/index.js';
import type { WaitingStatus } from '../../../../../runtime/errors/outage.js';
import type { OutRecord, TransactionalProducerPort } from '../../../../../runtime/worker/kafka-port.js';
import { FileOffsetStore } from '../../../../../runtime/worker/stores.js';
import { FakeKafka, waitFor } from '../fake-kafka.js';
import { exactlyOnceWorker } from './eos-worker.js';

const LAST = 29;
const outage = () => new RetriableError('Connection error: ECONNREFUSED', { code: 'ERPSTREAM_KAFKA_UNAVAILABLE' });

/**
 * A broker with transactions: committed records are visible (read_committed), aborted ones are not; a new producer
 * with a transactional id fences the older one (aborting its open transaction). The test takes the broker down and
 * chooses where its outage hits: a send, the offsets' send, or a commit that reached the coordinator before the
 * connection broke (an ambiguous commit: it did commit).
 */
class OutageKafka extends FakeKafka {
  readonly visible: string[] = [];
  /** Offsets of committed transactions: what the offset store reads back (read_committed). */
  readonly store = new FileOffsetStore(null);
  down = false;
  /** The next failure: 'send' (records), 'offsets' (the offsets' send), 'commit-lost', 'commit-applied'. */
  hit: 'send' | 'offsets' | 'commit-lost' | 'commit-applied' | null = null;
  producers = 0;
  zombieWrites = 0;
  private epoch = 0;

  /** The broker goes down where `hit` says and comes back `ms` after. */
  outage(hit: NonNullable<OutageKafka['hit']>, ms: number): void {
    this.hit = hit;
    const wentDown = setInterval(() => {
      if (!this.down) return;
      clearInterval(wentDown);
      setTimeout(() => (this.down = false), ms);
    }, 5);
  }

  async transactionalProducer(): Promise<TransactionalProducerPort> {
    if (this.down) throw outage();
    const epoch = ++this.epoch;
    this.producers++;
    let open: OutRecord[] | null = null;
    let closed = false;
    const live = () => {
      if (closed || epoch !== this.epoch) this.zombieWrites++;
      if (this.down) throw outage();
    };
    return {
      get inTransaction() {
        return open !== null;
      },
      begin: async () => {
        live();
        open = [];
      },
      send: async (records) => {
        live();
        const offsets = records.some((r) => r.topic === 'offsets');
        if ((this.hit === 'send' && !offsets) || (this.hit === 'offsets' && offsets)) {
          this.hit = null;
          this.down = true;
          throw outage();
        }
        open!.push(...records);
        return records.map((r) => ({ topic: r.topic, partition: 0, offset: 0n }));
      },
      commit: async () => {
        live();
        const tx = open!;
        open = null;
        if (this.hit === 'commit-lost') {
          this.hit = null;
          this.down = true;
          throw outage();
        }
        for (const r of tx) {
          if (r.topic === 'offsets')
            await this.store.set('tx', [{ partition: { p: 0 }, offset: JSON.parse(r.value!.toString()) }]);
          else this.visible.push(r.value!.toString());
        }
        if (this.hit === 'commit-applied') {
          this.hit = null;
          this.down = true;
          throw outage();
        }
      },
      abort: async () => {
        live();
        open = null;
      },
      close: async () => {
        closed = true;
      },
    };
  }
}

/** What the next task objects' start() throws (a database outage, say); null: they start. */
let failStart: (() => Error) | null = null;
let taskStarts = 0;

/** Emits two records per poll from the committed offset on, up to LAST; then nothing. */
const countingSource: SourceConnectorPlugin = {
  type: 'source',
  className: 'test.CountingSourceConnector',
  version: '1.0.0',
  config: new ConfigDef(),
  summary: 'test',
  create: () => ({ kind: 'source', version: () => '1.0.0', start() {}, taskConfigs: () => [{}], stop() {} }),
  createTask: () => {
    let ctx: SourceTaskContext;
    let next = 0;
    return {
      version: () => '1.0.0',
      initialize(c) {
        ctx = c;
      },
      async start() {
        taskStarts++;
        if (failStart) throw failStart();
        const o = await ctx.offsetStorageReader.offset({ p: 0 });
        next = o ? Number(o.seq) + 1 : 0;
      },
      async poll(): Promise<SourceRecord[] | null> {
        await new Promise((r) => setTimeout(r, 5));
        if (next > LAST) return null;
        return [next++, next++].map((s): SourceRecord => ({
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
        }));
      },
      async stop() {},
    };
  },
};

function workerOn(kafka: OutageKafka, workerProps: Record<string, string> = {}) {
  return exactlyOnceWorker(kafka, countingSource, kafka.store, workerProps);
}

const everyRecordOnce = Array.from({ length: LAST + 1 }, (_, i) => String(i));

describe('exactly-once source task: a broker outage in a transaction', () => {
  for (const hit of ['send', 'offsets', 'commit-lost', 'commit-applied'] as const) {
    it(`is waited out and the task resumes from its committed offsets (outage at ${hit})`, async () => {
      const kafka = new OutageKafka();
      const worker = workerOn(kafka);
      const states: string[] = [];
      const waits: Array<WaitingStatus | null> = [];
      // Hits the third transaction; the broker comes back 1.5 s after it went down.
      let commits = 0;
      const original = kafka.store.set.bind(kafka.store);
      kafka.store.set = async (c, e) => {
        await original(c, e);
        if (++commits === 2) {
          kafka.outage(hit, 1500);
        }
      };
      await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
        onState: (s) => states.push(s),
        onWaiting: (w) => waits.push(w),
      });
      await waitFor(() => kafka.visible.includes(String(LAST)), 20_000, 'every record committed');
      await worker.stopTask('tx', 0);

      // Each record committed exactly once, in order: nothing of the broken transaction, nothing twice.
      expect(kafka.visible).toEqual(everyRecordOnce);
      expect(states).not.toContain('FAILED');
      // The status said what the task waited for, and no longer once the new instance ran.
      expect(waits.some((w) => w?.for === 'the Kafka broker')).toBe(true);
      expect(waits.at(-1)).toBeNull();
      // A new instance with a new producer (which fenced the old one); the old one never wrote again.
      expect(kafka.producers).toBe(2);
      expect(kafka.zombieWrites).toBe(0);
    }, 30_000);
  }

  it('a second outage, after the task recovered, is waited for afresh (outage.wait.timeout.ms counts per outage)', async () => {
    const kafka = new OutageKafka();
    const worker = workerOn(kafka, { 'outage.wait.timeout.ms': '2500' });
    const states: string[] = [];
    let commits = 0;
    const original = kafka.store.set.bind(kafka.store);
    kafka.store.set = async (c, e) => {
      await original(c, e);
      commits++;
      // Two outages of 1.5 s each, more than 2.5 s apart: together longer than the limit, each shorter.
      if (commits === 2 || commits === 6) {
        if (commits === 6) await new Promise((r) => setTimeout(r, 1500));
        kafka.outage('send', 1500);
      }
    };
    await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
      onState: (s) => states.push(s),
    });
    await waitFor(() => kafka.visible.includes(String(LAST)) || states.includes('FAILED'), 20_000, 'the end');
    await worker.stopTask('tx', 0);
    expect(states).not.toContain('FAILED');
    expect(kafka.visible).toEqual(everyRecordOnce);
    expect(kafka.producers).toBe(3);
  }, 30_000);

  it('fails the task, naming the broker, once the outage outlasts outage.wait.timeout.ms', async () => {
    const kafka = new OutageKafka();
    const worker = workerOn(kafka, { 'outage.wait.timeout.ms': '1000' });
    const states: Array<[string, unknown]> = [];
    kafka.hit = 'send';
    await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
      onState: (s, e) => states.push([s, e]),
    });
    await waitFor(() => states.some(([s]) => s === 'FAILED'), 10_000, 'FAILED');
    const [, error] = states.find(([s]) => s === 'FAILED')!;
    expect(String(error)).toMatch(/Gave up waiting for the Kafka broker after \d+ s \(outage\.wait\.timeout\.ms/);
    expect(kafka.visible).toEqual([]);
    await worker.stopTask('tx', 0);
  }, 20_000);

  it('a task stopped while its new instance waits for the broker stays stopped', async () => {
    const kafka = new OutageKafka();
    const worker = workerOn(kafka);
    const states: string[] = [];
    const waits: Array<WaitingStatus | null> = [];
    kafka.hit = 'send';
    await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
      onState: (s) => states.push(s),
      onWaiting: (w) => waits.push(w),
    });
    await waitFor(() => waits.some((w) => w !== null), 5000, 'waiting');
    await worker.stopTask('tx', 0);
    kafka.down = false;
    await new Promise((r) => setTimeout(r, 1500));
    expect(kafka.producers).toBe(1);
    expect(kafka.visible).toEqual([]);
    expect(states).not.toContain('FAILED');
  }, 20_000);
});

describe('exactly-once source task: an outage when it starts', () => {
  // What the ErpSource's start() throws when its database refuses connections.
  const databaseDown = () =>
    classifyDbError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      'PostgreSQL connect',
    );

  it('a source database down at start: the task waits for it (RUNNING), starts once it is back, every record once', async () => {
    failStart = databaseDown;
    taskStarts = 0;
    try {
      const kafka = new OutageKafka();
      const worker = workerOn(kafka);
      const states: string[] = [];
      const waits: Array<WaitingStatus | null> = [];
      await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
        onState: (s) => states.push(s),
        onWaiting: (w) => waits.push(w),
      });
      await waitFor(() => taskStarts >= 2, 5_000, 'a second task object');
      expect(waits.some((w) => w?.for === 'the source system')).toBe(true);
      expect(states).not.toContain('FAILED');
      failStart = null;
      await waitFor(() => kafka.visible.includes(String(LAST)), 20_000, 'every record committed');
      await worker.stopTask('tx', 0);
      expect(kafka.visible).toEqual(everyRecordOnce);
      expect(states).not.toContain('FAILED');
      expect(waits.at(-1)).toBeNull();
      expect(kafka.zombieWrites).toBe(0);
    } finally {
      failStart = null;
    }
  }, 30_000);

  it('the broker down at the first start: waited for, not FAILED', async () => {
    const kafka = new OutageKafka();
    kafka.down = true;
    const worker = workerOn(kafka);
    const states: string[] = [];
    const waits: Array<WaitingStatus | null> = [];
    const started = worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
      onState: (s) => states.push(s),
      onWaiting: (w) => waits.push(w),
    });
    await waitFor(() => waits.some((w) => w?.for === 'the Kafka broker'), 5_000, 'waiting for the broker');
    kafka.down = false;
    await started;
    await waitFor(() => kafka.visible.includes(String(LAST)), 20_000, 'every record committed');
    await worker.stopTask('tx', 0);
    expect(kafka.visible).toEqual(everyRecordOnce);
    expect(states).not.toContain('FAILED');
    expect(kafka.producers).toBe(1);
  }, 30_000);

  it('a producer fenced by a newer instance is not started again, even when the error says retriable', async () => {
    failStart = () =>
      new RetriableError('Producer with transactional id g-tx-0 was fenced', {
        code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
        cause: Object.assign(new Error('There is a newer producer with the same transactionalId'), {
          type: 'PRODUCER_FENCED',
        }),
      });
    taskStarts = 0;
    try {
      const kafka = new OutageKafka();
      const worker = workerOn(kafka);
      const states: string[] = [];
      await worker.startTask('tx', 0, { 'connector.class': 'test.CountingSourceConnector' }, {}, false, {
        onState: (s) => states.push(s),
      });
      await waitFor(() => states.includes('FAILED'), 5_000, 'FAILED');
      await new Promise((r) => setTimeout(r, 1_200));
      expect(taskStarts).toBe(1);
      await worker.stopTask('tx', 0);
    } finally {
      failStart = null;
    }
  }, 20_000);
});
