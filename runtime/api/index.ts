/** The plugin API: the only module connectors, transforms and converters import. */
export * from './errors.js';
export * from './schema.js';
export * from './logical.js';
export * from './record.js';
export * from './config.js';
export * from './plugin.js';
export * from './build-info.js';
export * from './exact-json.js';
export * from './java-number-format.js';
export * from './connection-url.js';
export * from './db-errors.js';
export * from './secrets.js';
export * from './yaml.js';
export * from './admin.js';
export * from './reconcile.js';
export * from './sleep.js';
export * from './struct-values.js';
