import type { SourceConnectorPlugin } from '../../runtime/api/index.js';

export const erpSourcePlugins: SourceConnectorPlugin[] = [];
