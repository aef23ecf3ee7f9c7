import { ConfigError, DataError } from '../../api/index.js';

/** Confluent's subject name strategies: which registry subject a topic's key or value schema lives under. */
export type SubjectNameStrategy = (topic: string, isKey: boolean, recordFullName: string | undefined) => string;

const PACKAGE = 'io.confluent.kafka.serializers.subject.';

function recordName(strategy: string, recordFullName: string | undefined): string {
  if (recordFullName === undefined) {
    throw new DataError(`${strategy} needs a struct (Avro record) schema; this key or value has a non-struct schema`);
  }
  return recordFullName;
}

const STRATEGIES: Record<string, SubjectNameStrategy> = {
  TopicNameStrategy: (topic, isKey) => `${topic}-${isKey ? 'key' : 'value'}`,
  RecordNameStrategy: (_topic, _isKey, name) => recordName('RecordNameStrategy', name),
  TopicRecordNameStrategy: (topic, _isKey, name) => `${topic}-${recordName('TopicRecordNameStrategy', name)}`,
};

export const SUBJECT_STRATEGY_NAMES = [...Object.keys(STRATEGIES).map((s) => PACKAGE + s), ...Object.keys(STRATEGIES)];

export function subjectNameStrategy(configKey: string, className: string): SubjectNameStrategy {
  const simple = className.startsWith(PACKAGE) ? className.slice(PACKAGE.length) : className;
  const s = STRATEGIES[simple];
  if (!s)
    throw ConfigError.invalid(
      configKey,
      className,
      `Unknown subject name strategy; use one of ${SUBJECT_STRATEGY_NAMES.join(', ')}`,
    );
  return s;
}
