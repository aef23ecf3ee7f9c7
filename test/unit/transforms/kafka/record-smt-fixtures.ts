import {
  type ConnectRecord,
  Headers,
  type Predicate,
  type PredicatePlugin,
  type RawConfig,
  type SinkRecord,
  type Transformation,
  type TransformationPlugin,
} from '../../../../runtime/api/index.js';
import { predicatePlugins, recordTransformPlugins } from '../../../../transforms/kafka/record-transforms.js';

/** A source-style record with sensible defaults; override what a test is about. */
export function record(changes: Partial<ConnectRecord> = {}): ConnectRecord {
  return {
    topic: 'erp.dbo.shipments',
    kafkaPartition: 0,
    keySchema: null,
    key: null,
    valueSchema: null,
    value: null,
    timestamp: Date.UTC(2024, 0, 15, 10, 30, 0),
    headers: Headers.empty,
    ...changes,
  };
}

export function sinkRecord(changes: Partial<SinkRecord> = {}): SinkRecord {
  return {
    ...record(),
    kafkaPartition: 3,
    kafkaOffset: 42n,
    timestampType: 'CreateTime',
    originalTopic: 'erp.dbo.shipments',
    originalKafkaPartition: 3,
    originalKafkaOffset: 42n,
    ...changes,
  };
}

/** Resolves a transformation by class name or alias through the barrel, as the registry would, and configures it. */
export function transform(name: string, props: RawConfig = {}): Transformation {
  const plugin = findPlugin(recordTransformPlugins, name);
  const t = plugin.create();
  void t.configure(props);
  return t;
}

export function predicate(name: string, props: RawConfig = {}): Predicate {
  const plugin = findPlugin(predicatePlugins, name);
  const p = plugin.create();
  void p.configure(props);
  return p;
}

function findPlugin<P extends TransformationPlugin | PredicatePlugin>(plugins: readonly P[], name: string): P {
  const found = plugins.find((p) => p.className === name || (p.aliases ?? []).includes(name));
  if (!found) throw new Error(`no plugin ${name}`);
  return found;
}

export function apply(t: Transformation, r: ConnectRecord): ConnectRecord {
  const out = t.apply(r);
  if (out === null) throw new Error('record was dropped');
  return out;
}

export const KAFKA = 'org.apache.kafka.connect.transforms.';
