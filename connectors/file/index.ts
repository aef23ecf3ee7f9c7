import type { SinkConnectorPlugin, SourceConnectorPlugin } from '../../runtime/api/index.js';
import { fileStreamSinkPlugin } from './file-stream-sink.js';
import { fileStreamSourcePlugin } from './file-stream-source.js';
import { sequenceSourcePlugin } from './sequence-source.js';

/** Connectors shipped for tests and demos, the way Kafka ships FileStream. */
export const fileConnectorPlugins: Array<SourceConnectorPlugin | SinkConnectorPlugin> = [
  fileStreamSourcePlugin,
  fileStreamSinkPlugin,
  sequenceSourcePlugin,
];
