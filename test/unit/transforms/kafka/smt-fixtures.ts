import type {
  RawConfig,
  SinkRecord,
  SourceRecord,
  Transformation,
  TransformationPlugin,
} from '../../../../runtime/api/index.js';
import { Headers } from '../../../../runtime/api/index.js';

/** Record builders and plugin lookup shared by the field-level SMT tests. */

export function sourceRecord(changes: Partial<SourceRecord> = {}): SourceRecord {
  return {
    topic: 'erp.dbo.shipment',
    kafkaPartition: 2,
    keySchema: null,
    key: null,
    valueSchema: null,
    value: null,
    timestamp: 1_700_000_000_123,
    headers: Headers.empty,
    sourcePartition: { table: 'shipment' },
    sourceOffset: { seq: 42 },
    ...changes,
  };
}

export function sinkRecord(changes: Partial<SinkRecord> = {}): SinkRecord {
  return {
    topic: 'erp.dbo.shipment',
    kafkaPartition: 2,
    keySchema: null,
    key: null,
    valueSchema: null,
    value: null,
    timestamp: 1_700_000_000_123,
    headers: Headers.empty,
    kafkaOffset: 9_007_199_254_740_993n,
    timestampType: 'CreateTime',
    originalTopic: 'erp.dbo.shipment',
    originalKafkaPartition: 2,
    originalKafkaOffset: 9_007_199_254_740_993n,
    ...changes,
  };
}

export function pluginNamed(plugins: readonly TransformationPlugin[], className: string): TransformationPlugin {
  const found = plugins.find((p) => p.className === className);
  if (!found) throw new Error(`No plugin ${className} in ${plugins.map((p) => p.className).join(', ')}`);
  return found;
}

/** Creates and configures the `$Key` or `$Value` variant (or the single class when `variant` is omitted). */
export function smt(
  plugins: readonly TransformationPlugin[],
  className: string,
  props: RawConfig,
  variant?: 'Key' | 'Value',
): Transformation {
  const t = pluginNamed(plugins, variant ? `${className}$${variant}` : className).create();
  void t.configure(props);
  return t;
}
