import type { PredicatePlugin, TransformationPlugin } from '../../runtime/api/index.js';
import { castPlugins } from './cast.js';
import { extractFieldPlugins } from './extract-field.js';
import { flattenPlugins } from './flatten.js';
import { hoistFieldPlugins } from './hoist-field.js';
import { insertFieldPlugins } from './insert-field.js';
import { maskFieldPlugins } from './mask-field.js';
import { replaceFieldPlugins } from './replace-field.js';
import { valueToKeyPlugin } from './value-to-key.js';

/** Kafka's field-level SMTs (Cast, ExtractField, Flatten, HoistField, InsertField, MaskField, ReplaceField, ValueToKey). */
export const fieldTransformPlugins: TransformationPlugin[] = [
  ...castPlugins,
  ...extractFieldPlugins,
  ...flattenPlugins,
  ...hoistFieldPlugins,
  ...insertFieldPlugins,
  ...maskFieldPlugins,
  ...replaceFieldPlugins,
  valueToKeyPlugin,
];
export const fieldPredicatePlugins: PredicatePlugin[] = [];
