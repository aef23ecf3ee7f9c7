import type { SinkConnectorPlugin, SourceConnectorPlugin } from '../../runtime/api/index.js';

/** Connectors shipped for tests and demos, the way Kafka ships FileStream. */
export const fileConnectorPlugins: Array<SourceConnectorPlugin | SinkConnectorPlugin> = [];
