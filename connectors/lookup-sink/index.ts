import type { AdminCapable, SinkConnectorPlugin } from '../../runtime/api/index.js';
import { openLookupSinkAdmin } from './admin.js';
import { DELIVERY_PREFIX, lookupSinkConfigDef } from './config.js';
import { LookupSinkConnector } from './connector.js';
import { LookupSinkTask } from './task.js';
import { LOOKUP_SINK_VERSION } from './version.js';

export { LookupSinkConnector } from './connector.js';
export { LookupSinkTask } from './task.js';
export { lookupSinkConfigDef, parseLookupSinkConfig } from './config.js';
export type { LookupSinkMetrics } from './metrics.js';
export type { Delivery, Destination, Removal } from './destinations/destination.js';

export const lookupSinkPlugin: SinkConnectorPlugin & AdminCapable = {
  type: 'sink',
  className: 'erpstream.LookupSinkConnector',
  aliases: ['LookupSink', 'LookupSinkConnector'],
  version: LOOKUP_SINK_VERSION,
  config: lookupSinkConfigDef,
  summary:
    'Reads ids and versions, looks the origin rows up in batches, parks what is not ready (durably, per key) and ' +
    'delivers the latest state per customer to Kafka topics or a database, dropping stale versions.',
  example: {
    'connector.class': 'LookupSink',
    topics: 'erp.erp.document',
    'lookup.connection.url': 'postgresql://127.0.0.1:5432/erp',
    'lookup.query':
      'SELECT d.*, dd.domain FROM erp.document d LEFT JOIN erp.document_domain dd ON dd.document_id = d.document_id ' +
      'WHERE d.document_id IN (:ids)',
    'lookup.key.columns': 'document_id',
    'entity.name': 'document',
    dependencies: 'registered',
    'dependencies.registered.type': 'field',
    'dependencies.registered.field': 'domain',
    'destination.type': 'kafka',
    'destination.topic': '${domain}.documents',
  },
  create: () => new LookupSinkConnector(),
  createTask: () => new LookupSinkTask(),
  transformChainPrefixes: [DELIVERY_PREFIX],
  // The console's and `erpstream trace`'s view of the park, ledger and origin (runtime/api/admin.ts).
  admin: openLookupSinkAdmin,
};

export const lookupSinkPlugins: SinkConnectorPlugin[] = [lookupSinkPlugin];
