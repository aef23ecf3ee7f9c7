import { logLevel, type LogEntry, type logCreator } from 'kafkajs';

/** Severity names used by erpstream's logs. */
export type LogLevelName = 'error' | 'warn' | 'info' | 'debug';

/** The minimal structured logger the Kafka module writes to (the runtime's logger satisfies it). */
export interface KafkaLogSink {
  log(level: LogLevelName, message: string, fields: Record<string, unknown>): void;
}

const LEVEL_ORDER: Record<LogLevelName, number> = { error: 1, warn: 2, info: 4, debug: 5 };

/** Maps an erpstream level name to kafkajs's numeric level. */
export function toKafkaLogLevel(level: LogLevelName | 'nothing'): logLevel {
  switch (level) {
    case 'nothing':
      return logLevel.NOTHING;
    case 'error':
      return logLevel.ERROR;
    case 'warn':
      return logLevel.WARN;
    case 'info':
      return logLevel.INFO;
    case 'debug':
      return logLevel.DEBUG;
  }
}

function fromKafkaLogLevel(level: logLevel): LogLevelName {
  if (level <= logLevel.ERROR) return 'error';
  if (level === logLevel.WARN) return 'warn';
  if (level === logLevel.INFO) return 'info';
  return 'debug';
}

/** Writes one JSON line per entry to stderr, at or above `minLevel`. The default sink. */
export function stderrLogSink(minLevel: LogLevelName = 'warn'): KafkaLogSink {
  return {
    log(level, message, fields) {
      if (LEVEL_ORDER[level] > LEVEL_ORDER[minLevel]) return;
      process.stderr.write(`${JSON.stringify({ level, msg: message, ...fields })}\n`);
    },
  };
}

/**
 * kafkajs lines that are not problems for us, shown only at debug level:
 * - the EoS warning it prints for any idempotent producer with finite retries (we keep retries finite on purpose: a
 *   failed send surfaces as an error and the task restarts with a new producer, as Kafka Connect does);
 * - CONCURRENT_TRANSACTIONS right after a commit/abort, and the coordinator errors seen while a fresh broker creates
 *   __consumer_offsets / __transaction_state (all retriable: kafkajs retries them; a final failure still throws).
 */
const BENIGN = [
  /^Limiting retries for the idempotent producer/,
  /another concurrent operation on the same transaction was ongoing/,
  /^The group coordinator is not available/,
  /^This is not the correct coordinator for this group/,
  /^The coordinator is loading and hence can't process requests/,
];

function isBenign(message: string, extra: Record<string, unknown>): boolean {
  const error = typeof extra.error === 'string' ? extra.error : '';
  return BENIGN.some((re) => re.test(message) || re.test(error));
}

/**
 * A kafkajs logCreator that forwards entries to `sink` as `kafka.<namespace>` records, with kafkajs's extra
 * fields (broker, topic, error, stack, ...) kept as structured fields.
 */
export function kafkaLogCreator(sink: KafkaLogSink): logCreator {
  return () =>
    ({ namespace, level, label, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...extra } = log;
      const mapped = isBenign(message, extra) ? 'debug' : fromKafkaLogLevel(level);
      sink.log(mapped, message, {
        logger: namespace ? `kafka.${namespace}` : 'kafka',
        kafkaLevel: label,
        ...extra,
      });
    };
}
