import {
  ConfigDef,
  type ConnectRecord,
  type RawConfig,
  type Transformation,
  type TransformationPlugin,
} from '../../runtime/api/index.js';
import { PLUGIN_VERSION } from '../support.js';

export const FILTER_CONFIG = new ConfigDef();

/** Connect's Filter: drops every record it sees — pair it with a predicate to choose which. */
export class Filter implements Transformation {
  configure(props: RawConfig): void {
    FILTER_CONFIG.parse(props);
  }

  apply(_record: ConnectRecord): null {
    return null;
  }

  close(): void {}
}

export const filterPlugin: TransformationPlugin = {
  type: 'transformation',
  className: 'org.apache.kafka.connect.transforms.Filter',
  aliases: ['Filter'],
  version: PLUGIN_VERSION,
  config: FILTER_CONFIG,
  summary: 'Drops records; use it with a predicate (and optionally negate) to choose which.',
  example: {
    transforms: 'dropTombstones',
    'transforms.dropTombstones.type': 'org.apache.kafka.connect.transforms.Filter',
    'transforms.dropTombstones.predicate': 'isTombstone',
    predicates: 'isTombstone',
    'predicates.isTombstone.type': 'org.apache.kafka.connect.transforms.predicates.RecordIsTombstone',
  },
  create: () => new Filter(),
};
