import { fieldPredicatePlugins, fieldTransformPlugins } from './field-transforms.js';
import { predicatePlugins, recordTransformPlugins } from './record-transforms.js';

export const kafkaTransformPlugins = [...fieldTransformPlugins, ...recordTransformPlugins];
export const kafkaPredicatePlugins = [...fieldPredicatePlugins, ...predicatePlugins];
