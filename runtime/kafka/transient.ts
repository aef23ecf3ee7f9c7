import { RetriableError } from '../api/index.js';

/**
 * Kafka conditions that end by themselves: a broker that is down or restarting, a leader election, a coordinator
 * moving, metadata of a topic created a moment ago not served yet ("This server does not host this
 * topic-partition"). Everything that talks to Kafka retries these with backoff; anything else is a real error.
 */

/** Protocol errors whose wait ends: kafkajs marks most of them retriable; these it does not, or only sometimes. */
const TRANSIENT_TYPES = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'REQUEST_TIMED_OUT',
  'NETWORK_EXCEPTION',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_CONTROLLER',
  'NOT_ENOUGH_REPLICAS',
  'NOT_ENOUGH_REPLICAS_AFTER_APPEND',
  'KAFKA_STORAGE_ERROR',
  'FETCH_SESSION_ID_NOT_FOUND',
  'UNKNOWN_LEADER_EPOCH',
  'FENCED_LEADER_EPOCH',
  'OFFSET_NOT_AVAILABLE',
  'PREFERRED_LEADER_NOT_AVAILABLE',
  'THROTTLING_QUOTA_EXCEEDED',
]);

/** kafkajs errors of the transport and of exhausted retries (the cause says whether waiting helps). */
const TRANSIENT_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSLockTimeout',
  // Thrown (non-retriable) when no broker answered FindCoordinator: the broker is down or restarting, the same wait
  // as a connection error (an exactly-once task's transaction coordinator after a broker SIGKILL).
  'KafkaJSGroupCoordinatorNotFound',
]);

const NETWORK_CODES = /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|ENOTFOUND)$/;

/** Whether waiting can fix this Kafka client error (looks through causes and aggregates, at most a few levels). */
export function isTransientKafkaError(e: unknown, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 4) return false;
  const err = e as {
    name?: string;
    type?: string;
    code?: unknown;
    retriable?: boolean;
    canRetry?: boolean;
    cause?: unknown;
    errors?: unknown[];
  };
  // kafkajs marks protocol errors by Kafka's error table, @platformatic/kafka sets canRetry; ours are RetriableError.
  if (err.retriable === true || err.canRetry === true) return true;
  // kafkajs' admin.fetchTopicOffsets fails this way when a broker (just started, or a topic just created) answers
  // without the partitions' offsets: not served yet.
  if (e instanceof TypeError && /'(low|high)\.pop\(\.\.\.\)'/.test(e.message)) return true;
  if (typeof err.type === 'string' && TRANSIENT_TYPES.has(err.type)) return true;
  if (typeof err.name === 'string' && TRANSIENT_NAMES.has(err.name)) return true;
  if (typeof err.code === 'string' && NETWORK_CODES.test(err.code)) return true;
  if (Array.isArray(err.errors) && err.errors.some((x) => isTransientKafkaError(x, depth + 1))) return true;
  return err.cause !== undefined && isTransientKafkaError(err.cause, depth + 1);
}

/** A producer fenced by a newer instance with its transactional id (kafkajs error types, or their message). */
export function isFencedError(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { type, message } = e as { type?: string; message?: string };
    if (type === 'INVALID_PRODUCER_EPOCH' || type === 'PRODUCER_FENCED') return true;
    if (typeof message === 'string' && /old epoch|producer.*fenced/i.test(message)) return true;
  }
  return false;
}

const UNKNOWN_TOPIC_TYPES = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_ID']);

/**
 * Whether a produce failed because its topic does not exist (any more): the broker's UNKNOWN_TOPIC_OR_PARTITION /
 * UNKNOWN_TOPIC_ID, or the client's "Unknown topic X." from its metadata (also through a producer thread, where
 * only the message crosses). Looks through causes and aggregates.
 */
export function isUnknownTopicError(e: unknown, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 4) return false;
  const err = e as { type?: unknown; apiId?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
  if (typeof err.type === 'string' && UNKNOWN_TOPIC_TYPES.has(err.type)) return true;
  if (typeof err.apiId === 'string' && UNKNOWN_TOPIC_TYPES.has(err.apiId)) return true;
  if (typeof err.message === 'string' && /\bUnknown topic \S/.test(err.message)) return true;
  if (Array.isArray(err.errors) && err.errors.some((x) => isUnknownTopicError(x, depth + 1))) return true;
  return err.cause !== undefined && isUnknownTopicError(err.cause, depth + 1);
}

/** Group membership moved on (a rebalance, a session that expired while a batch waited): a commit of it is lost, not fatal. */
const REBALANCE_TYPES = new Set(['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']);

/** Whether a consumer's offset commit failed only because the group rebalanced (the records are redelivered). */
export function isRebalanceError(e: unknown, depth = 0): boolean {
  if (e === null || typeof e !== 'object' || depth > 4) return false;
  const err = e as { type?: string; cause?: unknown; errors?: unknown[] };
  if (typeof err.type === 'string' && REBALANCE_TYPES.has(err.type)) return true;
  if (Array.isArray(err.errors) && err.errors.some((x) => isRebalanceError(x, depth + 1))) return true;
  return err.cause !== undefined && isRebalanceError(err.cause, depth + 1);
}

/** A transient Kafka error as the RetriableError the runtime waits out (code ERPSTREAM_KAFKA_UNAVAILABLE). */
export function asKafkaOutage(e: unknown, context?: string): unknown {
  if (!isTransientKafkaError(e)) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new RetriableError(context ? `${context}: ${message}` : message, {
    cause: e,
    code: 'ERPSTREAM_KAFKA_UNAVAILABLE',
  });
}

export interface RetryTransientOptions {
  /** Overall budget from the first attempt; -1 = forever. */
  timeoutMs: number;
  /** Called before each wait with the transient error (log it, show it in a status). */
  onRetry?: (error: unknown, attempt: number, sinceMs: number) => void;
  /** Longest pause between attempts (default 5 s); the first is 200 ms, doubling. */
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** Extra transient conditions of this call (default: isTransientKafkaError). */
  isTransient?: (e: unknown) => boolean;
}

/**
 * Runs `op` until it succeeds, retrying transient Kafka errors with backoff until `timeoutMs`; a real error, or the
 * last transient one once the time is up, is thrown.
 */
export async function retryTransient<T>(op: () => Promise<T>, o: RetryTransientOptions): Promise<T> {
  const since = Date.now();
  const deadline = o.timeoutMs < 0 ? Infinity : since + o.timeoutMs;
  const transient = o.isTransient ?? isTransientKafkaError;
  let delay = 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (e) {
      const left = deadline - Date.now();
      if (!transient(e) || left <= 0 || o.signal?.aborted) throw e;
      o.onRetry?.(e, attempt, since);
      await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      delay = Math.min(delay * 2, o.maxDelayMs ?? 5000);
    }
  }
}
