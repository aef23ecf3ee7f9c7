import {
  KafkaJSConnectionError,
  KafkaJSGroupCoordinatorNotFound,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ConfigError, RetriableError } from '../../../../runtime/api/index.js';
import {
  asKafkaOutage,
  isRebalanceError,
  isTransientKafkaError,
  isUnknownTopicError,
  retryTransient,
} from '../../../../runtime/kafka/index.js';

/** Which Kafka errors waiting can fix (issue 20 items 1 and 3, issue 12 item 5), and the retry helper built on it. */

const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code: 0, retriable, message: type } as unknown as Error);

describe('isTransientKafkaError', () => {
  it('a new topic whose metadata is not served yet, a leader election and a broker that is down are transient', () => {
    expect(isTransientKafkaError(protocol('UNKNOWN_TOPIC_OR_PARTITION', true))).toBe(true);
    expect(isTransientKafkaError(protocol('LEADER_NOT_AVAILABLE', true))).toBe(true);
    // kafkajs marks this one non-retriable in some paths; it still ends by itself.
    expect(isTransientKafkaError(protocol('NOT_COORDINATOR', false))).toBe(true);
    expect(isTransientKafkaError(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'))).toBe(true);
    const exhausted = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
      retryCount: 8,
      retryTime: 5000,
    });
    expect(isTransientKafkaError(exhausted)).toBe(true);
    expect(isTransientKafkaError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(
      true,
    );
    expect(isTransientKafkaError(new RetriableError('ours'))).toBe(true);
    // No broker answered FindCoordinator (kafkajs throws it non-retriable): the broker is down, waiting fixes it.
    expect(
      isTransientKafkaError(
        new (KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error)(
          'Failed to find group coordinator',
        ),
      ),
    ).toBe(true);
    // kafkajs' fetchTopicOffsets on a broker that has just started: the offsets are not served yet.
    const notServed = new TypeError("Cannot destructure property 'partitions' of 'low.pop(...)' as it is undefined.");
    expect(isTransientKafkaError(notServed)).toBe(true);
    expect(isTransientKafkaError(new TypeError('x is not a function'))).toBe(false);
  });

  it('conditions waiting cannot fix are not', () => {
    expect(isTransientKafkaError(protocol('TOPIC_AUTHORIZATION_FAILED', false))).toBe(false);
    expect(isTransientKafkaError(protocol('INVALID_REPLICATION_FACTOR', false))).toBe(false);
    expect(isTransientKafkaError(protocol('MESSAGE_TOO_LARGE', false))).toBe(false);
    expect(isTransientKafkaError(new KafkaJSNonRetriableError('bad'))).toBe(false);
    expect(isTransientKafkaError(new ConfigError('bad key'))).toBe(false);
    expect(isTransientKafkaError(null)).toBe(false);
  });

  it('asKafkaOutage turns a transient error into the RetriableError tasks wait out, and leaves others alone', () => {
    const wrapped = asKafkaOutage(protocol('UNKNOWN_TOPIC_OR_PARTITION', true), 'sending') as RetriableError;
    expect(wrapped).toBeInstanceOf(RetriableError);
    expect(wrapped.code).toBe('ERPSTREAM_KAFKA_UNAVAILABLE');
    expect(wrapped.message).toMatch(/^sending: UNKNOWN_TOPIC_OR_PARTITION/);
    const fatal = protocol('TOPIC_AUTHORIZATION_FAILED', false);
    expect(asKafkaOutage(fatal)).toBe(fatal);
  });
});

describe('retryTransient', () => {
  it('retries transient errors until the call succeeds', async () => {
    let calls = 0;
    const retried: number[] = [];
    const v = await retryTransient(
      async () => {
        if (++calls < 3) throw protocol('UNKNOWN_TOPIC_OR_PARTITION', true);
        return 'ok';
      },
      { timeoutMs: 10_000, maxDelayMs: 10, onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(v).toBe('ok');
    expect(retried).toEqual([1, 2]);
  });

  it('throws a real error at once, and the last transient one when the time is up', async () => {
    let calls = 0;
    const fatal = protocol('TOPIC_AUTHORIZATION_FAILED', false);
    await expect(
      retryTransient(
        async () => {
          calls++;
          throw fatal;
        },
        { timeoutMs: 10_000 },
      ),
    ).rejects.toBe(fatal);
    expect(calls).toBe(1);
    await expect(
      retryTransient(
        async () => {
          throw protocol('LEADER_NOT_AVAILABLE', true);
        },
        { timeoutMs: 50, maxDelayMs: 10 },
      ),
    ).rejects.toThrow(/LEADER_NOT_AVAILABLE/);
  });
});

describe('isRebalanceError', () => {
  it('a commit refused because the group rebalanced is recognised (the sink keeps going; records are redelivered)', () => {
    expect(isRebalanceError(protocol('REBALANCE_IN_PROGRESS', false))).toBe(true);
    expect(isRebalanceError(protocol('ILLEGAL_GENERATION', false))).toBe(true);
    expect(isRebalanceError(protocol('UNKNOWN_MEMBER_ID', false))).toBe(true);
    expect(isRebalanceError(protocol('TOPIC_AUTHORIZATION_FAILED', false))).toBe(false);
  });
});

describe('isUnknownTopicError', () => {
  it('a produce to a deleted topic is told apart (the source task creates it again), wrapped or not', () => {
    const client = new Error('Producing messages failed.', { cause: new Error('Unknown topic erp.s.item.') });
    expect(isUnknownTopicError(new RetriableError('Kafka rejected a batch of 1 records', { cause: client }))).toBe(
      true,
    );
    expect(isUnknownTopicError(protocol('UNKNOWN_TOPIC_OR_PARTITION', true))).toBe(true);
    expect(isUnknownTopicError({ apiId: 'UNKNOWN_TOPIC_ID' })).toBe(true);
    expect(isUnknownTopicError(protocol('LEADER_NOT_AVAILABLE', true))).toBe(false);
    expect(isUnknownTopicError(new Error('connect ECONNREFUSED 127.0.0.1:9092'))).toBe(false);
  });
});
