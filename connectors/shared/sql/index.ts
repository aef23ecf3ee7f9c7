/**
 * The connectors' one SQL driver layer: per database, its placeholders, identifier quoting, IN-lists and key
 * predicates (syntax.ts, predicates.ts), its connection settings (connection.ts) and a pooled client
 * (client.ts, *-pool.ts). Shared by the ERP source's dialects and the lookup sink; it imports only the plugin API,
 * never a connector.
 */
export * from './client.js';
export * from './connection.js';
export * from './drivers.js';
export * from './predicates.js';
export * from './syntax.js';
