import type { PredicatePlugin, TransformationPlugin } from '../runtime/api/index.js';
import { debeziumTransformPlugins } from './debezium/index.js';
import { erpTransformPlugins } from './erp/index.js';
import { kafkaPredicatePlugins, kafkaTransformPlugins } from './kafka/index.js';

/** Every transformation this build ships, by plugin descriptor. */
export const transformationPlugins: TransformationPlugin[] = [
  ...kafkaTransformPlugins,
  ...debeziumTransformPlugins,
  ...erpTransformPlugins,
];

export const predicatePluginList: PredicatePlugin[] = [...kafkaPredicatePlugins];
