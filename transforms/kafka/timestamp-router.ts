import {
  ConfigDef,
  type ConnectRecord,
  DataError,
  type RawConfig,
  type Transformation,
  type TransformationPlugin,
  isSinkRecord,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';
import { type JavaDateFormat, compileJavaDateFormat, javaDateFormatValidator } from './java-date-format.js';

const TOPIC_FORMAT = 'topic.format';
const TIMESTAMP_FORMAT = 'timestamp.format';

export const TIMESTAMP_ROUTER_CONFIG = new ConfigDef()
  .define({
    name: TOPIC_FORMAT,
    type: 'STRING',
    defaultValue: '${topic}-${timestamp}',
    importance: 'HIGH',
    documentation:
      'Format string which can contain `${topic}` and `${timestamp}` as placeholders for the topic and timestamp, respectively.',
  })
  .define({
    name: TIMESTAMP_FORMAT,
    type: 'STRING',
    defaultValue: 'yyyyMMdd',
    validator: javaDateFormatValidator(),
    importance: 'HIGH',
    documentation: 'Format string for the timestamp that is compatible with `java.text.SimpleDateFormat`, in UTC.',
  });

/**
 * Connect's TimestampRouter: the topic becomes `topic.format` with `${topic}` and `${timestamp}` (the
 * record timestamp formatted in UTC) substituted. A record without a timestamp is a DataError.
 */
export class TimestampRouter implements Transformation {
  private topicFormat = '';
  private timestampFormat: JavaDateFormat | undefined;

  configure(props: RawConfig): void {
    const config = TIMESTAMP_ROUTER_CONFIG.parse(props);
    this.topicFormat = config.string(TOPIC_FORMAT);
    this.timestampFormat = compileJavaDateFormat(config.string(TIMESTAMP_FORMAT), TIMESTAMP_FORMAT);
  }

  apply<R extends ConnectRecord>(record: R): R {
    if (record.timestamp === null || record.timestamp === undefined) {
      throw new DataError(`Timestamp missing on record: ${describeRecord(record)}`);
    }
    let formatted: string;
    try {
      formatted = this.timestampFormat!.format(record.timestamp);
    } catch (e) {
      throw new DataError(
        `Cannot format timestamp ${record.timestamp} of record ${describeRecord(record)}: ${(e as Error).message}`,
      );
    }
    // Split/join, not String.replace: the topic may itself contain `$` patterns.
    const topic = this.topicFormat.split('${topic}').join(record.topic).split('${timestamp}').join(formatted);
    return newRecord(record, { topic });
  }

  close(): void {}
}

/** Where the record is, without its key or value (which may hold personal data). */
function describeRecord(record: ConnectRecord): string {
  const where = isSinkRecord(record) ? `, kafkaOffset=${record.kafkaOffset}` : '';
  return `ConnectRecord{topic='${record.topic}', kafkaPartition=${record.kafkaPartition}${where}, timestamp=${record.timestamp}}`;
}

export const timestampRouterPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.TimestampRouter',
  aliases: ['TimestampRouter'],
  version: PLUGIN_VERSION,
  config: TIMESTAMP_ROUTER_CONFIG,
  summary: 'Routes each record to a topic named after its topic and its timestamp (UTC), e.g. orders-20240115.',
  example: {
    transforms: 'daily',
    'transforms.daily.type': 'org.apache.kafka.connect.transforms.TimestampRouter',
    'transforms.daily.topic.format': '${topic}-${timestamp}',
    'transforms.daily.timestamp.format': 'yyyy.MM.dd',
  },
  create: () => new TimestampRouter(),
};
