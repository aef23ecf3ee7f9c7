import type { PredicatePlugin, TransformationPlugin } from '../../runtime/api/index.js';

/** Kafka's record-level SMTs (headers, routing, metadata, timestamps, Filter) and the predicates. */
export const recordTransformPlugins: TransformationPlugin[] = [];
export const predicatePlugins: PredicatePlugin[] = [];
