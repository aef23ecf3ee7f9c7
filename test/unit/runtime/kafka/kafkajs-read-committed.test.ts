import { describe, expect, it } from 'vitest';
import { flagAbortedRecords } from '../../../../runtime/kafka/kafkajs-read-committed.js';

type Ctx = {
  firstOffset: string;
  lastOffsetDelta: number;
  producerId: string;
  inTransaction: boolean;
  isControlBatch: boolean;
};
const COMMIT = Buffer.from([0, 0, 0, 1]);
const ABORT = Buffer.from([0, 0, 0, 0]);

/** Record batches as kafkajs decodes them: one message per offset, sharing its batch's context object. */
function batches(spec: Array<[first: number, last: number, producer: number, kind: 'data' | 'commit' | 'abort']>) {
  return spec.flatMap(([first, last, producer, kind]) => {
    const ctx: Ctx = {
      firstOffset: String(first),
      lastOffsetDelta: last - first,
      producerId: String(producer),
      inTransaction: true,
      isControlBatch: kind !== 'data',
    };
    return Array.from({ length: last - first + 1 }, (_, i) => ({
      offset: String(first + i),
      key: kind === 'commit' ? COMMIT : kind === 'abort' ? ABORT : Buffer.from(`${producer}-${first + i}`),
      isControlRecord: kind !== 'data',
      batchContext: ctx,
    }));
  });
}
const visible = (messages: ReturnType<typeof batches>) =>
  messages.filter((m) => !m.isControlRecord).map((m) => Number(m.offset));
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('read_committed over kafkajs: records of aborted transactions are never handed out', () => {
  // The log of eosfault.seq-0 after a broker SIGKILL (fault suite): producer 12's transaction from 546 was aborted
  // after producer 11's from 562, so the broker lists 11's first. kafkajs delivered 546–560; Java's consumer does not.
  const log = () =>
    batches([
      [526, 529, 11, 'data'],
      [530, 530, 11, 'commit'],
      [531, 545, 11, 'data'],
      [546, 560, 12, 'data'],
      [561, 561, 11, 'commit'],
      [562, 565, 11, 'data'],
      [566, 566, 11, 'abort'],
      [567, 567, 12, 'abort'],
      [568, 568, 11, 'data'],
      [569, 569, 12, 'data'],
      [570, 570, 12, 'commit'],
      [571, 571, 11, 'commit'],
    ]);

  it('drops both aborted transactions whatever order the broker lists them in, and nothing committed', () => {
    const first = { producerId: '12', firstOffset: '546' };
    const second = { producerId: '11', firstOffset: '562' };
    for (const abortedTransactions of [
      [second, first],
      [first, second],
    ]) {
      const partition = { abortedTransactions, messages: log() };
      flagAbortedRecords(partition);
      expect(visible(partition.messages)).toEqual([...range(526, 529), ...range(531, 545), 568, 569]);
      // kafkajs's own filter gets nothing left to do.
      expect(partition.abortedTransactions).toEqual([]);
    }
  });

  it('enters every aborted transaction that began before a fetch that starts in the middle of them', () => {
    // A fetch from 550: both transactions began at or before it, and kafkajs entered one per record.
    const partition = {
      abortedTransactions: [
        { producerId: '11', firstOffset: '548' },
        { producerId: '12', firstOffset: '546' },
      ],
      messages: batches([
        [550, 552, 12, 'data'],
        [553, 555, 11, 'data'],
        [556, 556, 12, 'abort'],
        [557, 557, 11, 'abort'],
        [558, 559, 12, 'data'],
        [560, 560, 12, 'commit'],
      ]),
    };
    flagAbortedRecords(partition);
    expect(visible(partition.messages)).toEqual([558, 559]);
  });

  it('keeps the flagged records in place, so the consumer still moves past them', () => {
    const partition = { abortedTransactions: [{ producerId: '12', firstOffset: '546' }], messages: log() };
    flagAbortedRecords(partition);
    expect(partition.messages.map((m) => Number(m.offset))).toEqual(range(526, 571));
  });

  it('leaves a fetch without aborted transactions untouched', () => {
    const partition = { abortedTransactions: [], messages: log() };
    flagAbortedRecords(partition);
    expect(visible(partition.messages)).toEqual([...range(526, 529), ...range(531, 560), ...range(562, 565), 568, 569]);
  });
});
