// The one module that touches the Kafka client library. Everything else imports from here, so the client can be
// swapped (e.g. for @platformatic/kafka) without touching connectors, the worker or the CLI.
export {
  createKafka,
  createProducer,
  connectTransactionalProducer,
  createConsumer,
  ensureTopics,
  replicationFactorFor,
  parseBrokers,
  brokersOf,
  type KafkaOptions,
  type TopicSpec,
  type EnsureTopicsOptions,
  type ProducerOptions,
  type ConsumerOptions,
  type ConsumerFetchOptions,
} from './client.js';
export { kafkaLogCreator, stderrLogSink, toKafkaLogLevel, type KafkaLogSink, type LogLevelName } from './log.js';
export type {
  Kafka,
  Admin,
  Producer,
  Consumer,
  Transaction,
  Message,
  KafkaMessage,
  IHeaders,
  RecordMetadata,
  EachMessagePayload,
  EachBatchPayload,
  TopicMessages,
  ITopicMetadata,
} from 'kafkajs';
export { KafkaPluginAccess } from './plugin-access.js';
export {
  RecordProducer,
  type ProducerRecord,
  type ProducedAck,
  type RecordHeaders,
  type RecordProducerOptions,
} from './record-producer.js';
export { COMPRESSIONS, type Compression, compressionNamed } from './compression.js';
export {
  ThreadedRecordProducer,
  type DataProducer,
  PRODUCER_THREAD_ENV,
  connectRecordProducer,
} from './threaded-producer.js';
export { javaPartition, murmur2 } from './murmur2.js';
export { MAX_REQUEST_BYTES, estimatedRecordBytes, sizedRuns } from './request-size.js';
export {
  isTransientKafkaError,
  isFencedError,
  isRebalanceError,
  isUnknownTopicError,
  asKafkaOutage,
  retryTransient,
  type RetryTransientOptions,
} from './transient.js';
export {
  HangingTransactionRepair,
  type HangingTransaction,
  type TransactionLogEntry,
  coordinatorDecision,
  decodeTransactionLogRecord,
  transactionLogPartition,
} from './hanging-transactions.js';
