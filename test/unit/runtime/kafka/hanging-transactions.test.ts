import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../../runtime/api/index.js';
import {
  HangingTransactionRepair,
  type TransactionLogEntry,
  coordinatorDecision,
  decodeTransactionLogRecord,
  transactionLogPartition,
} from '../../../../runtime/kafka/index.js';

// Records of one transactional id as a Kafka 4.4.0 broker wrote them to __transaction_state (TransactionLogValue v1):
// a transaction's PrepareCommit with its two partitions, its CompleteCommit, and the Empty of the next producer epoch.
const KEY = Buffer.from('0000001769742d646973742d656f732d6661756c742d7365712d31', 'hex');
const PREPARE_COMMIT = Buffer.from(
  '0001000000000000000b00010000ea6002031a69742d646973742d656f732d6661756c742d6f6666736574730200000001000d656f736661' +
    '756c742e736571020000000000000001a24d80a922000001a24d80a90f010008000000000000000b',
  'hex',
);
const COMPLETE_COMMIT = Buffer.from(
  '0001000000000000000b00010000ea600401000001a24d80ffdb000001a24d80a90f010008000000000000000b',
  'hex',
);
const EMPTY_NEXT_EPOCH = Buffer.from(
  '0001000000000000000b00020000ea600000000001a24d8126c0ffffffffffffffff010008000000000000000b',
  'hex',
);

describe('the transaction log, as the hanging-transaction repair reads it', () => {
  it('decodes a broker-written PrepareCommit with its partitions (flexible v1, tagged fields after)', () => {
    expect(decodeTransactionLogRecord(KEY, PREPARE_COMMIT)).toEqual({
      transactionalId: 'it-dist-eos-fault-seq-1',
      producerId: 11n,
      producerEpoch: 1,
      status: 2,
      partitions: [
        { topic: 'it-dist-eos-fault-offsets', partitions: [1] },
        { topic: 'eosfault.seq', partitions: [0] },
      ],
    });
  });

  it('decodes the completion (no partitions) and a null partition list (Empty)', () => {
    expect(decodeTransactionLogRecord(KEY, COMPLETE_COMMIT)).toMatchObject({ status: 4, partitions: [] });
    expect(decodeTransactionLogRecord(KEY, EMPTY_NEXT_EPOCH)).toMatchObject({
      status: 0,
      producerEpoch: 2,
      partitions: [],
    });
  });

  it('decodes the non-flexible v0 value', () => {
    const topic = Buffer.from('orders');
    const v0 = Buffer.concat([
      Buffer.from([0, 0]), // version 0
      Buffer.from('0000000000000007', 'hex'), // producer id
      Buffer.from([0, 3]), // epoch
      Buffer.from('0000ea60', 'hex'), // timeout
      Buffer.from([3]), // PrepareAbort
      Buffer.from('00000001', 'hex'), // one topic
      Buffer.from([0, topic.length]),
      topic,
      Buffer.from('000000020000000400000009', 'hex'), // partitions 4 and 9
      Buffer.alloc(16), // timestamps
    ]);
    expect(decodeTransactionLogRecord(KEY, v0)).toMatchObject({
      producerId: 7n,
      producerEpoch: 3,
      status: 3,
      partitions: [{ topic: 'orders', partitions: [4, 9] }],
    });
  });

  it('skips a tombstone and a version it does not know; a truncated record is an error, not a guess', () => {
    expect(decodeTransactionLogRecord(KEY, null)).toBeNull();
    expect(decodeTransactionLogRecord(Buffer.from([0]), PREPARE_COMMIT)).toBeNull();
    const v9 = Buffer.from(PREPARE_COMMIT);
    v9.writeInt16BE(9, 0);
    expect(decodeTransactionLogRecord(KEY, v9)).toBeNull();
    expect(() => decodeTransactionLogRecord(KEY, PREPARE_COMMIT.subarray(0, 20))).toThrow();
  });

  it('finds the log partition of a transactional id as the broker does (Java String.hashCode, Utils.abs)', () => {
    // Where a Kafka 4.4.0 broker with 3 transaction log partitions kept these ids (its coordinator's log lines).
    expect(transactionLogPartition('it-dist-eos-fault-seq-1', 3)).toBe(2);
    expect(transactionLogPartition('it-dist-eos-fault-erp-0', 3)).toBe(2);
    expect(transactionLogPartition('it-dist-eos-fault-erp-2', 3)).toBe(0);
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE, which Utils.abs maps to 0; "hello" is 99162322.
    expect(transactionLogPartition('polygenelubricants', 50)).toBe(0);
    expect(transactionLogPartition('hello', 50)).toBe(99162322 % 50);
  });
});

describe("the coordinator's decision for a hanging transaction (commit or abort on every partition it hangs on)", () => {
  const P = { topic: 'orders', partition: 0 };
  const OFFSETS = { topic: 'connect-offsets', partition: 3 };
  const [EMPTY, ONGOING, PREPARE_COMMIT, PREPARE_ABORT, COMPLETE_COMMIT, COMPLETE_ABORT] = [0, 1, 2, 3, 4, 5];
  const at = (status: number, producerEpoch: number, ...parts: Array<{ topic: string; partition: number }>) =>
    ({
      transactionalId: 'g-erp-0',
      producerId: 7n,
      producerEpoch,
      status,
      partitions: parts.map((p) => ({ topic: p.topic, partitions: [p.partition] })),
    }) satisfies TransactionLogEntry;

  it('commit when the coordinator had logged PrepareCommit and then skipped the markers (the Kafka 4.4 restart)', () => {
    const log = [
      at(ONGOING, 1, OFFSETS),
      at(ONGOING, 1, OFFSETS, P),
      at(PREPARE_COMMIT, 1, OFFSETS, P),
      at(COMPLETE_COMMIT, 1),
      at(EMPTY, 2),
    ];
    expect(coordinatorDecision(log, 1, [P, OFFSETS])).toBe('commit');
  });

  it("abort when a new producer's InitProducerId aborted it (logged with the next epoch)", () => {
    const log = [at(ONGOING, 1, P), at(PREPARE_ABORT, 2, P), at(COMPLETE_ABORT, 2), at(EMPTY, 3)];
    expect(coordinatorDecision(log, 1, [P])).toBe('abort');
  });

  it('abort when the coordinator never decided it', () => {
    expect(coordinatorDecision([at(ONGOING, 1, P), at(EMPTY, 2)], 1, [P])).toBe('abort');
    expect(coordinatorDecision([], 1, [P])).toBe('abort');
  });

  it('takes the last transaction of that epoch that had the partition, not an earlier committed one', () => {
    const log = [at(ONGOING, 1, P), at(PREPARE_COMMIT, 1, P), at(COMPLETE_COMMIT, 1), at(ONGOING, 1, P), at(EMPTY, 2)];
    expect(coordinatorDecision(log, 1, [P])).toBe('abort');
  });

  it("ignores the next producer's own transactions, committed or aborted, once it is decided or not", () => {
    // Undecided, then the next epoch commits its own transaction on the same partition: not this one's decision.
    expect(coordinatorDecision([at(ONGOING, 1, P), at(ONGOING, 2, P), at(PREPARE_COMMIT, 2, P)], 1, [P])).toBe('abort');
    // Decided commit, then the next epoch aborts one of its own: the commit stands.
    expect(
      coordinatorDecision(
        [at(ONGOING, 1, P), at(PREPARE_COMMIT, 1, P), at(ONGOING, 2, P), at(PREPARE_ABORT, 2, P)],
        1,
        [P],
      ),
    ).toBe('commit');
  });

  it('ignores transactions that did not have the hanging partition', () => {
    expect(coordinatorDecision([at(ONGOING, 1, OFFSETS), at(PREPARE_COMMIT, 1, OFFSETS)], 1, [P])).toBe('abort');
  });
});

describe('the hanging-transaction sweep when it cannot look', () => {
  it('says a lasting failure once (it runs every minute), with the manual commands, and never throws', async () => {
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (m: string) => void warnings.push(m) };
    const repair = new HangingTransactionRepair({
      brokers: '127.0.0.1:1',
      clientId: 'hanging-sweep-test',
      logger,
      ownedTransactionalIds: () => ['g-erp-0'],
    });
    try {
      expect(await repair.repairAndLog()).toEqual([]);
      expect(await repair.repairAndLog()).toEqual([]);
    } finally {
      await repair.close();
    }
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/kafka-transactions\.sh .*find-hanging/);
  }, 60_000);

  it('does not touch Kafka while this cluster has no task', async () => {
    const repair = new HangingTransactionRepair({
      brokers: '127.0.0.1:1',
      clientId: 'hanging-sweep-test',
      logger: { ...silentLogger, warn: () => expect.fail('no warning expected') },
      ownedTransactionalIds: () => [],
    });
    // Any request to the closed port would fail and warn.
    expect(await repair.repairAndLog()).toEqual([]);
    await repair.close();
    // Nor while it has tasks but no exactly-once and no topic in use yet (a worker without exactly-once).
    const idle = new HangingTransactionRepair({
      brokers: '127.0.0.1:1',
      clientId: 'hanging-sweep-test',
      logger: { ...silentLogger, warn: () => expect.fail('no warning expected') },
      ownedTransactionalIds: () => [],
      watchedTopics: () => [],
    });
    expect(await idle.repairAndLog()).toEqual([]);
    await idle.close();
  });
});
