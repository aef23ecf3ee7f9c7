import type { SinkConnectorPlugin, SourceConnectorPlugin } from '../runtime/api/index.js';
import { erpSourcePlugins } from './erp-source/index.js';
import { fileConnectorPlugins } from './file/index.js';
import { lookupSinkPlugins } from './lookup-sink/index.js';

export const connectorPlugins: Array<SourceConnectorPlugin | SinkConnectorPlugin> = [
  ...erpSourcePlugins,
  ...fileConnectorPlugins,
  ...lookupSinkPlugins,
];
