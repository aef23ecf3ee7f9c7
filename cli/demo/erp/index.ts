/** The demo's ERP: schema and seed, a fresh database per run, and the operations-team simulator. */
export * from './schema.js';
export * from './database.js';
export * from './simulator.js';
