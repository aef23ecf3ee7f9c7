import type { PredicatePlugin, TransformationPlugin } from '../../runtime/api/index.js';

/** Kafka's field-level SMTs (Cast, ExtractField, Flatten, HoistField, InsertField, MaskField, ReplaceField, ValueToKey). */
export const fieldTransformPlugins: TransformationPlugin[] = [];
export const fieldPredicatePlugins: PredicatePlugin[] = [];
