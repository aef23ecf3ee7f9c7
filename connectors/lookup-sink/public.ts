/**
 * What tools outside the connector (the CLI, the integrations compiler and its golden tests) may use: the config
 * parser, the delivery key prefix, and the shaper with its exact JSON, so an offline golden test shapes records
 * exactly as the connector does. Anything else in this folder may change without notice; lint keeps outsiders here.
 */
export { DELIVERY_PREFIX, parseLookupSinkConfig } from './config.js';
export { exactJson } from './json.js';
export { DeliveryShaper } from './shaping.js';
