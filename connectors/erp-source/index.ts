import type { SourceConnectorPlugin } from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../../transforms/support.js';
import { CONNECTOR_ALIASES, CONNECTOR_CLASS, erpSourceConfigDef } from './config.js';
import { ErpSourceConnector } from './connector.js';
import { ErpSourceTask } from './task.js';

export const erpSourcePlugin: SourceConnectorPlugin = {
  type: 'source',
  className: CONNECTOR_CLASS,
  aliases: CONNECTOR_ALIASES,
  version: PLUGIN_VERSION,
  config: erpSourceConfigDef,
  summary:
    'Tails ERP change tables (PostgreSQL, MySQL/MariaDB, SQL Server) and emits full-row Debezium envelopes without losing changes that commit out of order',
  example: {
    'connector.class': CONNECTOR_CLASS,
    'connection.url': 'postgresql://127.0.0.1:5432/erp',
    'connection.user': 'erpstream',
    'connection.password': '${env:ERP_DB_PASSWORD}',
    'change.table': 'erp.change_log',
    'table.include.list': 'erp\\.(shipment|document)',
    'topic.prefix': 'erp',
  },
  create: () => new ErpSourceConnector(),
  createTask: () => new ErpSourceTask(),
};

export const erpSourcePlugins: SourceConnectorPlugin[] = [erpSourcePlugin];

export { ErpSourceConnector, ErpSourceTask, erpSourceConfigDef };
