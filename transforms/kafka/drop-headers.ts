import {
  ConfigDef,
  type ConnectRecord,
  type RawConfig,
  type Transformation,
  type TransformationPlugin,
  Validators,
  newRecord,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';

const HEADERS = 'headers';

export const DROP_HEADERS_CONFIG = new ConfigDef().define({
  name: HEADERS,
  type: 'LIST',
  validator: Validators.nonEmptyList(),
  importance: 'HIGH',
  documentation: 'The name of the headers to be removed.',
});

/** Connect's DropHeaders: removes every header whose name is listed (all occurrences). */
export class DropHeaders implements Transformation {
  private names = new Set<string>();

  configure(props: RawConfig): void {
    this.names = new Set(DROP_HEADERS_CONFIG.parse(props).list(HEADERS));
  }

  apply<R extends ConnectRecord>(record: R): R {
    return newRecord(record, { headers: Object.freeze(record.headers.filter((h) => !this.names.has(h.key))) });
  }

  close(): void {}
}

export const dropHeadersPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.DropHeaders',
  aliases: ['DropHeaders'],
  version: PLUGIN_VERSION,
  config: DROP_HEADERS_CONFIG,
  summary: 'Removes the listed headers from each record.',
  example: {
    transforms: 'dropInternal',
    'transforms.dropInternal.type': 'org.apache.kafka.connect.transforms.DropHeaders',
    'transforms.dropInternal.headers': 'trace-debug,internal-route',
  },
  create: () => new DropHeaders(),
};
